"""How the suite runs each coding-agent CLI: non-interactive, against one base URL on loopback, in throwaway homes.

The environment is built from nothing but PATH and a locale, so a developer's own keys, base URLs, proxies and
settings cannot leak in; each client's telemetry, update checks and other side traffic are switched off.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The tool-use scenarios ask each CLI to read this file; its content is what the scripted final answer quotes.
NOTE = "note.txt"
NOTE_TEXT = "The launch code is 4242."
PROMPT = "Say hello in five words."
TOOL_PROMPT = f"What does the file {NOTE} say? Read it."
CODEX_KEY_ENV = "LEGION_API_KEY"


@dataclass
class Launch:
    """One CLI invocation: what to run, where, with which environment."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path

    def run(self, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run to completion; stdin is closed so a client that would prompt fails instead of waiting."""
        return subprocess.run(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, check=False)


def workspace(root: Path) -> tuple[Path, Path]:
    """A home and a working directory under `root`, the working directory holding the note to read."""
    home, work = root / "home", root / "work"
    home.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    (work / NOTE).write_text(NOTE_TEXT + "\n")
    return home, work


def _base_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(home),
            "TMPDIR": str(home), "NO_COLOR": "1", "TERM": "dumb"}


def claude(binary: str, *, base_url: str, key: str, root: Path, prompt: str, model: str | None = None) -> Launch:
    """`claude -p` printing stream-json, text deltas included; only the Read tool is allowed, so the tool turn
    needs no permission prompt. Without `model`, Claude Code asks for its own default model.
    """
    home, work = workspace(root)
    env = {**_base_env(home), "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": key,
           "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
           "DISABLE_BUG_COMMAND": "1"}
    if model:
        # Claude Code's side requests (titles, summaries) use the small fast model; keep them on a served name too.
        env |= {"ANTHROPIC_MODEL": model, "ANTHROPIC_SMALL_FAST_MODEL": model,
                "ANTHROPIC_DEFAULT_HAIKU_MODEL": model}
    argv = [binary, "-p", prompt, "--output-format", "stream-json", "--verbose", "--include-partial-messages",
            "--allowedTools", "Read", "--max-turns", "4", "--no-session-persistence"]
    return Launch(argv, env, work)


def codex(binary: str, *, base_url: str, key: str, root: Path, prompt: str, model: str | None = None) -> Launch:
    """`codex exec --json` with one model provider, Responses over HTTP at `base_url`/v1, keyed by env.

    Without `model`, Codex asks for its own default model.
    """
    home, work = workspace(root)
    codex_home = home / ".codex"
    codex_home.mkdir(exist_ok=True)
    (codex_home / "config.toml").write_text(
        (f'model = "{model}"\n' if model else "")
        + 'model_provider = "legion"\n'
        "[analytics]\n"
        "enabled = false\n"
        "[feedback]\n"
        "enabled = false\n"
        "[model_providers.legion]\n"
        'name = "Legion"\n'
        f'base_url = "{base_url}/v1"\n'
        f'env_key = "{CODEX_KEY_ENV}"\n'
        'wire_api = "responses"\n'
        # One attempt: a failure must show in the test, not be hidden by the client's own retries.
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n")
    env = {**_base_env(home), "CODEX_HOME": str(codex_home), CODEX_KEY_ENV: key}
    # The scripted shell command is `cat` of the note; Codex's own sandbox needs kernel features a CI
    # container may lack, and the run is already confined to a throwaway directory.
    # --strict-config: a renamed setting in a new version must fail here, not be silently ignored.
    argv = [binary, "exec", "--json", "--strict-config", "--skip-git-repo-check", "--ephemeral",
            "--dangerously-bypass-approvals-and-sandbox", "-C", str(work), prompt]
    return Launch(argv, env, work)
