"""CEL evaluation in child processes with a wall-clock and a memory budget, so no expression can stall its caller.

The Rust evaluator holds the GIL until it returns and has no budget of its own: a 250-character condition
of nested comprehensions held a web process for 24 s, `/healthz` included, and a thread cannot interrupt
it. So an expression that may be slow runs in a child process (this file run as a script; it imports only
the standard library and `cel`): the caller waits on a pipe, which releases the GIL, and past
`chains.cel.timeout_ms` the child is killed and replaced. The child's address space is capped at
`chains.cel.memory_mb`, so a list built by nested `map`s fails there instead of swapping the machine.
Each process keeps at most `chains.cel.evaluators` children, reused across evaluations; a child started
before a fork belongs to the parent and is never touched by the forked process.
"""

from __future__ import annotations

import io
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

_HEADER = struct.Struct(">I")
_READY = b"R"
# Starting Python and importing `cel` is not the expression's fault: it gets its own, generous deadline.
_STARTUP_SECONDS = 30.0
# CEL's runtime errors, re-raised in the caller as what `Program.execute` would have raised in-process.
_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (KeyError, TypeError, ValueError, ZeroDivisionError, RuntimeError, IndexError,
                                  OverflowError, MemoryError, RecursionError)
}


class SandboxError(Exception):
    """The evaluation ran out of time or memory, or its process died; the message names the limit."""


@dataclass(frozen=True)
class Budget:
    """The `chains.cel.*` budget of one evaluation, and the largest result it may send back."""

    timeout_ms: int
    memory_mb: int
    evaluators: int
    max_result_bytes: int


class _Unpickler(pickle.Unpickler):
    """Values only: CEL results are JSON-like plus timestamps and durations."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "datetime" and name in {"datetime", "timedelta", "timezone", "date"}:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a CEL value")


class _Evaluator:
    """One child process, used by one thread at a time."""

    def __init__(self, budget: Budget) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", __file__, str(budget.memory_mb), str(budget.max_result_bytes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests, self.answers = self.process.stdin.fileno(), self.process.stdout.fileno()
        try:
            ready = self._read(1, time.monotonic() + _STARTUP_SECONDS)
        except (TimeoutError, EOFError):
            ready = b""
        if ready != _READY:
            self.kill()
            raise SandboxError("the CEL evaluator process did not start")

    def execute(self, source: str, variables: dict[str, Any], deadline: float) -> tuple[Any, ...]:
        """("value", v) or ("raise", exception name, args); TimeoutError past the deadline, EOFError if it died."""
        request = pickle.dumps((source, variables), protocol=pickle.HIGHEST_PROTOCOL)
        _write_all(self.requests, _HEADER.pack(len(request)) + request)
        (length,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        answer: tuple[Any, ...] = _Unpickler(io.BytesIO(self._read(length, deadline))).load()
        return answer

    def _read(self, count: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.answers], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(self.answers, min(count, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> int:
        """Kill and reap the child; its exit status (negative: the signal that ended it)."""
        if self.process.poll() is None:
            self.process.kill()
        code = self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        return code


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Pool:
    """This process's idle evaluators and the slots that bound how many exist."""

    def __init__(self, budget: Budget) -> None:
        self.pid = os.getpid()
        self.budget = budget
        self.slots = threading.BoundedSemaphore(budget.evaluators)
        self.idle: list[_Evaluator] = []
        self.lock = threading.Lock()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _pool_for(budget: Budget) -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is not None and _pool.pid == os.getpid() and _pool.budget != budget:
            # Settings changed (tests do): children started under the old limits go.
            with _pool.lock:
                for evaluator in _pool.idle:
                    evaluator.kill()
        # After a fork the inherited pool's children belong to the parent: start afresh, leave them be.
        if _pool is None or _pool.pid != os.getpid() or _pool.budget != budget:
            _pool = _Pool(budget)
        return _pool


def sandbox_execute(source: str, variables: dict[str, Any], budget: Budget) -> Any:
    """Evaluate `source` (already shape-checked) in a child process within `budget`.

    Returns the value or raises what `cel` raised (KeyError, TypeError, IndexError, …); raises SandboxError
    when the time or memory ran out, the child died, or every evaluator of this process stayed busy until
    the deadline. Waiting for a free evaluator counts against the deadline; starting a new one does not.
    """
    deadline = time.monotonic() + budget.timeout_ms / 1000
    pool = _pool_for(budget)
    if not pool.slots.acquire(timeout=budget.timeout_ms / 1000):
        raise SandboxError(f"all {budget.evaluators} CEL evaluators of this process stayed busy for "
                           f"{budget.timeout_ms} ms (chains.cel.evaluators, chains.cel.timeout_ms)")
    try:
        with pool.lock:
            evaluator = pool.idle.pop() if pool.idle else None
        if evaluator is None:
            evaluator = _Evaluator(budget)
            deadline = time.monotonic() + budget.timeout_ms / 1000
        try:
            answer = evaluator.execute(source, variables, deadline)
        except TimeoutError as exc:
            evaluator.kill()
            raise SandboxError(
                f"the expression ran longer than {budget.timeout_ms} ms (chains.cel.timeout_ms)") from exc
        except (EOFError, BrokenPipeError) as exc:
            code = evaluator.kill()
            raise SandboxError(f"the expression's evaluation died (exit status {code}); it may need more than "
                               f"{budget.memory_mb} MB (chains.cel.memory_mb)") from exc
        except BaseException:
            evaluator.kill()  # a request or answer that would not (un)pickle: the pipe's state is unknown
            raise
        with pool.lock:
            pool.idle.append(evaluator)
    finally:
        pool.slots.release()
    if answer[0] == "raise":
        raise _ERRORS.get(answer[1], RuntimeError)(*answer[2])
    return answer[1]


def _serve(memory_mb: int, max_result_bytes: int) -> None:
    """The child: answer (source, variables) requests on stdin until it closes."""
    import resource

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the terminal is for the parent, which closes stdin
    import cel

    programs: dict[str, Any] = {}
    requests, answers = sys.stdin.buffer.fileno(), sys.stdout.buffer.fileno()
    _write_all(answers, _READY)
    while header := _read_exactly(requests, _HEADER.size):
        source, variables = pickle.loads(_read_exactly(requests, _HEADER.unpack(header)[0]))
        try:
            if source not in programs:
                if len(programs) >= 256:
                    programs.clear()
                programs[source] = cel.compile(source)
            answer = pickle.dumps(("value", programs[source].execute(variables)), protocol=pickle.HIGHEST_PROTOCOL)
            if len(answer) > max_result_bytes:
                answer = _raised(ValueError(f"the result is over {max_result_bytes} bytes (chains.max_payload_bytes)"))
        except Exception as exc:  # noqa: BLE001 - every CEL failure goes back to the caller, named
            answer = _raised(exc)
        _write_all(answers, _HEADER.pack(len(answer)) + answer)


def _raised(exc: Exception) -> bytes:
    return pickle.dumps(("raise", type(exc).__name__, tuple(str(arg) for arg in exc.args)))


def _read_exactly(fd: int, count: int) -> bytes:
    chunks: list[bytes] = []
    while count:
        chunk = os.read(fd, count)
        if not chunk:
            return b""
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
