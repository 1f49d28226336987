"""`legion start`'s children: their output relayed to this terminal, and when one dies, which one, how, and the
last lines it printed, before the others are stopped."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from apps.core.processes import exit_describe, log_tail

TAIL_LINES = 20
STOP_SECONDS = 15
_OUTPUT = threading.Lock()  # one relayed line at a time, so children's lines never interleave mid-line


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path | None = None  # a child that writes its own log file (llama-server) instead of our pipe
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    relay: threading.Thread | None = None

    def last_lines(self) -> list[str]:
        if self.log_path is not None:
            return log_tail(self.log_path, TAIL_LINES)
        if self.relay is not None:
            self.relay.join(timeout=2)  # the rest of what it printed before dying; its own children may hold the pipe
        return list(self.tail)


def child_start(name: str, argv: list[str], env: Mapping[str, str]) -> Child:
    """Start a child whose output reaches this terminal through a relay that keeps its last lines."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    child = Child(name, process)
    child.relay = threading.Thread(target=_relay, args=(child,), name=f"relay-{name}", daemon=True)
    child.relay.start()
    return child


def _relay(child: Child) -> None:
    assert child.process.stdout is not None
    for raw in iter(child.process.stdout.readline, b""):
        line = raw.decode(errors="replace")
        child.tail.append(line.rstrip())
        with _OUTPUT:
            sys.stdout.write(line)
            sys.stdout.flush()


def children_alive(children: list[Child]) -> bool:
    return all(child.process.poll() is None for child in children)


def children_supervise(children: list[Child], *, stopping: Callable[[], bool]) -> int:
    """Wait until a child exits or `stopping()` says so; report a child that died, stop the rest, return the code.

    A child found dead after a stop was asked for is not reported: Ctrl-C reaches every child of the terminal.
    """
    while not stopping() and children_alive(children):
        time.sleep(0.2)
    if not stopping():
        for child in children:
            if child.process.poll() is not None:
                print(death_report(child), file=sys.stderr, flush=True)
    return children_stop(children)


def death_report(child: Child) -> str:
    lines = child.last_lines()
    said = "Its last lines:\n" + "\n".join(f"  | {line}" for line in lines) if lines else "It printed nothing."
    where = f" (log: {child.log_path})" if child.log_path else ""
    return (f"legion: {child.name} (pid {child.process.pid}) {exit_describe(child.process.returncode)}; "
            f"stopping the others.{where} {said}")


def children_stop(children: list[Child]) -> int:
    """SIGTERM the living, SIGKILL those still there after STOP_SECONDS; the first failure's exit status, else 0."""
    codes = [child.process.poll() for child in children]
    for child in children:
        if child.process.poll() is None:
            child.process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
    failed = [code for code in codes if code not in (None, 0)]
    if not failed:
        return 0
    return failed[0] if failed[0] > 0 else 128 - failed[0]  # the shell's status for death by a signal
