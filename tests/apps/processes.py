"""Real `legion <command>` processes on the test database, for tests of beat and actors; output is collected."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import connection

from tests.support import full_env, wait_until


class LegionProcess:
    """`manage.py legion <args>` with the test's database, queue and spool, plus `env` overrides."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        database = str(connection.settings_dict["NAME"])  # the test database, e.g. test_triggers
        child_env = full_env(database, LEGION_CHAINS_QUEUE=settings.CONFIG["chains.queue"],
                             LEGION_SPOOL_DIR=settings.CONFIG["spool.dir"], PYTHONUNBUFFERED="1", **(env or {}))
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "legion", *args],
            env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 40.0) -> float:
        """Wait until a line contains `text`; returns when it was seen (time.monotonic())."""

        def logged() -> bool:
            if any(text in line for line in self.lines):
                return True
            assert self.process.poll() is None, f"exited with {self.process.returncode} before logging {text!r}"
            return False

        try:
            wait_until(logged, timeout=timeout, what=f"a line logging {text!r}")
        except AssertionError as exc:  # what it did log instead tells why
            raise AssertionError(f"{exc}; its output ends:\n{''.join(self.lines[-40:])}") from None
        return time.monotonic()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no lease released, as when a machine dies."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode
