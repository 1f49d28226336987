"""Capture what Claude Code and Codex send: run each CLI against a scripted upstream on loopback and keep every request.

    python -m tests.proxy.clients.capture --client claude|codex|all [--out DIR] [--bin PATH]

Each client runs two scenarios, `prompt` (a greeting, streamed back) and `tool` (the model calls the client's
file-reading or shell tool on a note, the client runs it and sends the result, the model answers), each twice:
with the client's own default model, and with a model name it does not know, as a gateway alias is (both
clients shape requests by model: Codex's own models get code-mode tools, others plain function tools). Every
request the client makes, side requests included, is written to
`<out>/<client>-<version>/<model>-<scenario>-<NN>.json` with its method, path, query, headers (keys
redacted) and JSON body; the throwaway directory's path in bodies
is replaced by a fixed one so recaptures diff cleanly. The binaries default to the pinned install
(`legion_site.devservices.clients_ensure`). Refresh the fixtures with this when a pin in
requirements/clients/package.json moves, then delete the previous version's folder.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from legion_site.devservices import clients_ensure
from tests.proxy.clients import launch
from tests.proxy.clients.recorded import FIXTURES
from tests.proxy.clients.script import FINAL, GREETING, claude_reply, codex_reply
from tests.proxy.clients.upstream import Exchange, Scripted
from tests.proxy.fakes.anthropic import FakeAnthropic
from tests.proxy.fakes.openai_responses import FakeOpenAIResponses
from tests.proxy.fakes.server import serving

ROOT = Path(__file__).resolve().parents[3]
KEY = "sk-capture-key"
REDACTED = {"x-api-key", "authorization"}
# Where the throwaway directory's path appears in captured bodies (system prompts name the working directory).
STABLE_ROOT = "/tmp/legion-capture"
TIMEOUT = 120.0


@dataclass
class Client:
    """How to capture one CLI: its upstream fake and script, and how to launch it at a base URL."""

    name: str
    env: str
    upstream: Callable[[Path], Scripted]
    launcher: Callable[..., launch.Launch]


CLIENTS = {
    "claude": Client("claude-code", "LEGION_CLAUDE_BIN",
                     lambda root: Scripted(FakeAnthropic(api_key=KEY),
                                           lambda body: claude_reply(body, root / "work" / launch.NOTE)),
                     launch.claude),
    "codex": Client("codex", "LEGION_CODEX_BIN",
                    lambda root: Scripted(FakeOpenAIResponses(api_key=KEY), codex_reply), launch.codex),
}
SCENARIOS = {"prompt": launch.PROMPT, "tool": launch.TOOL_PROMPT}
# The client's own default, and a name it has no metadata for (what a Legion alias looks like to it).
MODELS: dict[str, str | None] = {"default-model": None, "unknown-model": "legion-smart"}


class CaptureFailed(RuntimeError):
    """The client did not complete a scenario against the scripted upstream."""


def version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True, timeout=60).stdout
    found = re.search(r"\d+\.\d+\.\d+", out)
    if not found:
        raise CaptureFailed(f"{binary} --version printed no version: {out!r}")
    return found.group()


@contextmanager
def throwaway() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="legion-capture-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def scenario_run(client: Client, binary: str, prompt: str, model: str | None) -> tuple[list[Exchange], str]:
    """Run one scenario; return the requests (paths normalised) and the client's stdout."""
    with throwaway() as root:
        upstream = client.upstream(root)
        with serving(upstream) as server:
            done = client.launcher(binary, base_url=server.url, key=KEY, root=root, prompt=prompt,
                                   model=model).run(TIMEOUT)
        if done.returncode != 0:
            raise CaptureFailed(f"{client.name} exited {done.returncode}: {done.stderr[-2000:] or done.stdout[-2000:]}")
        return [_stable(exchange, str(root)) for exchange in upstream.exchanges], done.stdout


def _stable(exchange: Exchange, root: str) -> Exchange:
    headers = {k: "<redacted>" if k in REDACTED else v for k, v in exchange.headers.items()}
    text = json.dumps(exchange.body).replace(root, STABLE_ROOT)
    # Claude Code also names the directory slugged (its per-project memory folder): every other character a "-".
    text = text.replace(_slug(root), _slug(STABLE_ROOT))
    body = json.loads(text)
    return Exchange(exchange.method, exchange.path, exchange.query, headers, body)


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "-", path)


def capture(name: str, binary: str, out: Path) -> Path:
    """Capture every model and scenario of one client into `out`/<client>-<version>/; return that folder."""
    client = CLIENTS[name]
    release = version(binary)
    folder = out / f"{client.name}-{release}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for (variant, model), (scenario, prompt) in itertools.product(MODELS.items(), SCENARIOS.items()):
        exchanges, stdout = scenario_run(client, binary, prompt, model)
        answer = FINAL if scenario == "tool" else GREETING
        if answer not in stdout:
            raise CaptureFailed(f"{client.name} ({variant}, {scenario}) ended without the scripted answer: "
                                f"{stdout[-2000:]}")
        for step, exchange in enumerate(exchanges, start=1):
            record = {"client": client.name, "version": release, "model": variant, "scenario": scenario,
                      "step": step, **asdict(exchange)}
            (folder / f"{variant}-{scenario}-{step:02d}.json").write_text(json.dumps(record, indent=1) + "\n")
    return folder


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.proxy.clients.capture",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--client", choices=[*CLIENTS, "all"], default="all")
    parser.add_argument("--out", type=Path, default=FIXTURES)
    parser.add_argument("--bin", help="the CLI to run (default: the pinned install)")
    args = parser.parse_args(argv)
    names = list(CLIENTS) if args.client == "all" else [args.client]
    if args.bin and len(names) > 1:
        parser.error("--bin needs one --client")
    pinned = (ROOT / "requirements" / "clients", ROOT / "var" / "clients")
    bins = {CLIENTS[n].env: args.bin for n in names} if args.bin else clients_ensure(*pinned)
    for name in names:
        print(capture(name, bins[CLIENTS[name].env], args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
