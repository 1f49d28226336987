"""A stand-in for `llama-server` that fails the way a build unfit for its CPU does: run as a script.

`fake_installation` gives it to the code under test as an installation; it runs as
`llama_server.py BEHAVIOUR [llama-server arguments]`, where BEHAVIOUR is one of
  crash-loading:SIG   prints llama-server's first log lines, then dies of SIG (as ggml's AMX path does)
  silent:SIG          dies of SIG before printing anything (an instruction this CPU lacks)
  exit:CODE           prints an error and exits with CODE
  crash-warm-up:SIG   answers /health, then dies of SIG at its first completion
  loading             answers /health with 503 (still loading the model) for ever
  serve:PATH          answers /health and completions, and writes its arguments and the requests to PATH (JSON)
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proxy.local_model import Installation

LOADING_LINES = ("load_tensors: loading model tensors, this can take a while... (mmap = true)",
                 "llama_context: constructing llama_context", "llama threadpool init, n_threads = 2")


def fake_installation(directory: Path, behaviour: str) -> Installation:
    """An installation whose `llama-server` is this stand-in behaving as told, with a placeholder model file."""
    from proxy.local_model import installation_check  # not when run as a script: the repository is not on its path

    binary = directory / "llama-server"
    binary.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(__file__)} "
                      f"{shlex.quote(behaviour)} \"$@\"\n")
    binary.chmod(0o755)
    gguf = directory / "model.gguf"
    gguf.write_bytes(b"GGUF")
    installation = installation_check(binary=binary, gguf=gguf).installation
    assert installation is not None
    return installation


def die(name: str) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file left in the test's directory
    signal.signal(getattr(signal, name), signal.SIG_DFL)
    os.kill(os.getpid(), getattr(signal, name))


def serve(port: int, *, crash: str | None = None, record: Path | None = None, health: int = 200) -> None:
    requests: list[object] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer({"status": "ok"} if self.path == "/health" else {"error": "not found"},
                         health if self.path == "/health" else 404)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if crash:
                die(crash)
            requests.append({"path": self.path, "body": body})
            if record is not None:
                record.write_text(json.dumps({"argv": sys.argv[2:], "requests": requests}))
            self._answer({"content": "ok", "tokens_predicted": 1}, 200)

        def _answer(self, payload: object, status: int) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main(argv: list[str]) -> None:
    behaviour, _, value = argv[1].partition(":")
    port = int(argv[argv.index("--port") + 1])
    if behaviour == "crash-loading":
        print("\n".join(LOADING_LINES), flush=True)
        die(value)
    elif behaviour == "silent":
        die(value)
    elif behaviour == "exit":
        print(f"error: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: {port}", flush=True)
        sys.exit(int(value))
    elif behaviour == "crash-warm-up":
        serve(port, crash=value)
    elif behaviour == "loading":
        serve(port, health=503)
    elif behaviour == "serve":
        serve(port, record=Path(value))


if __name__ == "__main__":
    main(sys.argv)
