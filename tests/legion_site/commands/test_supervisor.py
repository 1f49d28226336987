"""`legion start`'s supervisor: a child that dies is named with its exit code or signal and its last lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from legion_site.commands.supervisor import Child, child_start, children_supervise

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def sleeper() -> Child:
    return child_start("sleeper", python("import time; time.sleep(60)"), ENV)


def test_a_child_that_exits_is_named_with_its_code_and_last_lines_and_the_others_stop(
        capsys: pytest.CaptureFixture[str]) -> None:
    others = sleeper()
    crasher = child_start("web", python("print('starting'); print('boom: no database'); raise SystemExit(3)"), ENV)

    code = children_supervise([others, crasher], stopping=lambda: False)

    report = capsys.readouterr().err
    assert f"legion: web (pid {crasher.process.pid}) exited with code 3; stopping the others." in report
    assert "  | starting\n  | boom: no database" in report and "sleeper" not in report
    assert code == 3 and others.process.returncode is not None


def test_a_child_killed_by_a_signal_is_named_with_the_signal(capsys: pytest.CaptureFixture[str]) -> None:
    killed = child_start("worker", python(
        "import os, signal; print('about to go', flush=True); os.kill(os.getpid(), signal.SIGKILL)"), ENV)

    code = children_supervise([sleeper(), killed], stopping=lambda: False)

    report = capsys.readouterr().err
    assert "legion: worker (pid" in report and "killed by SIGKILL" in report and "| about to go" in report
    assert code == 128 + 9


def test_a_child_with_its_own_log_file_is_reported_from_it(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "local-model.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(python("print('model file missing'); raise SystemExit(1)"), env=ENV,
                                   stdout=handle, stderr=subprocess.STDOUT)
    model = Child("local model (llama-server)", process, log_path=log)

    children_supervise([sleeper(), model], stopping=lambda: False)

    report = capsys.readouterr().err
    assert "local model (llama-server)" in report and "exited with code 1" in report
    assert f"(log: {log})" in report and "| model file missing" in report


def test_a_requested_stop_reports_no_death_and_stops_everyone(capsys: pytest.CaptureFixture[str]) -> None:
    children = [sleeper(), sleeper()]

    code = children_supervise(children, stopping=lambda: True)

    assert code == 0 and capsys.readouterr().err == ""
    assert all(child.process.returncode is not None for child in children)
