"""The processes under test: the fake backend, Legion's proxy and LiteLLM's, each started, awaited and stopped.

Every server gets its own temporary directory (settings, logs) and a clean environment, so a developer's
legion.toml, .env or LEGION_* variables cannot leak in, and only loopback addresses are used.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-bench"
# Only what a process needs to run; everything Legion or LiteLLM would read as configuration is set explicitly.
_BASE_ENV = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}


@dataclass
class Server:
    """A started process and where it answers; `base` is the URL prefix of its OpenAI-style API."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    base: str
    log: Path
    key: str = API_KEY  # what clients send; Legion verifies it, the others take any

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(name: str, argv: list[str], env: dict[str, str], workdir: Path, port: int, base: str) -> Server:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env={**_BASE_ENV, **env}, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    return Server(name, process, port, base, log)


def wait_ready(server: Server, path: str, timeout: float) -> None:
    """Until GET `path` answers 200; raises with the server's log tail if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{server.port}{path}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            request = urllib.request.Request(url, headers={"authorization": f"Bearer {server.key}"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.25)
    tail = server.log.read_text(errors="replace")[-3000:]
    server.stop()
    raise RuntimeError(f"{server.name} did not become ready at {url}; its log ends with:\n{tail}")


def backend_start(workdir: Path) -> Server:
    port = free_port()
    server = _spawn("backend", [sys.executable, "-m", "bench.proxy.backend", "--port", str(port)],
                    {"PYTHONPATH": str(ROOT)}, workdir, port, "/v1")
    wait_ready(server, "/v1/models", 20)
    return server


def legion_start(workdir: Path, backend: Server) -> Server:
    """`legion proxy` (uvicorn, uvloop, httptools on proxy.asgi) with lite-mode settings in a fresh home.

    Its SQLite database holds one service principal with the operator policy and its key, which every
    request presents: Legion refuses a credential that is not a valid key. The key is verified once and then
    answered from the proxy's in-process cache, so the hot path does not touch the database.
    """
    home = workdir / "legion-home"
    home.mkdir()
    settings = workdir / "legion.toml"
    settings.write_text(f"""
[[proxy.providers]]
name = "bench"
kind = "openai_compatible"
base_url = "http://127.0.0.1:{backend.port}/v1"
concurrency = 64

[[proxy.providers.models]]
id = "bench-model"
capabilities = ["streaming"]
""")
    port = free_port()
    env = {"LEGION_MODE": "lite", "LEGION_HOME": str(home), "LEGION_SETTINGS_FILE": str(settings),
           "LEGION_ENV_FILE": "", "LEGION_PROXY_LOCAL_MODEL_ENABLED": "false",
           "PYTHONPATH": str(ROOT)}  # only the backend: no bundled local model beside it
    legion = [sys.executable, str(ROOT / "manage.py"), "legion"]
    for command in (["migrate"], ["rbac", "principal", "create", "bench", "--kind", "service", "--policy", "operator"]):
        subprocess.run([*legion, *command], cwd=ROOT, env={**_BASE_ENV, **env}, check=True, capture_output=True)
    issued = subprocess.run([*legion, "rbac", "key", "create", "bench"], cwd=ROOT, env={**_BASE_ENV, **env},
                            check=True, capture_output=True, text=True)
    server = _spawn("legion", [*legion, "proxy", "--host", "127.0.0.1", "--port", str(port)], env, workdir, port, "/v1")
    server.key = issued.stdout.splitlines()[1].strip()
    wait_ready(server, "/v1/models", 60)
    return server


def litellm_start(workdir: Path, backend: Server, venv: Path) -> Server:
    """LiteLLM's proxy (its own CLI, uvicorn, one worker like Legion's) with the backend as an OpenAI model.

    No master key and no database: LiteLLM does not authenticate, which is its cheapest configuration and so
    the conservative one for the ratios (Legion checks a key, from its cache). (LiteLLM refuses to start
    without a master key unless told that this is deliberate.)
    """
    config = workdir / "litellm.yaml"
    config.write_text(f"""
model_list:
  - model_name: bench-model
    litellm_params:
      model: openai/bench-model
      api_base: http://127.0.0.1:{backend.port}/v1
      api_key: sk-backend
litellm_settings:
  telemetry: false
""")
    port = free_port()
    # The local cost map stops LiteLLM fetching one from the internet at startup; only loopback is reachable.
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False", "LITELLM_LOG": "ERROR",
           "DISABLE_SCHEMA_UPDATE": "True", "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true"}
    server = _spawn("litellm", [str(venv / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1",
                                "--port", str(port), "--num_workers", "1"], env, workdir, port, "/v1")
    wait_ready(server, "/health/liveliness", 120)
    return server
