"""`legion task run|show|cancel` and `legion spool status`."""

from __future__ import annotations

from typing import Any

import pytest

from apps.chains.cli import arguments_parse
from apps.chains.models import RunStatus, TaskRun
from tests.apps.jobs import drive, legion

pytestmark = pytest.mark.usefixtures("registry")


def test_key_value_arguments_become_a_json_payload() -> None:
    assert arguments_parse(["message=hello world", "n=3", "flag=true", "data.a=[1,2]", "data.b=x"]) == {
        "message": "hello world", "n": 3, "flag": True, "data": {"a": [1, 2], "b": "x"}}


def test_task_run_then_show_the_run(operator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert legion("task", "run", "core.basic.log", "message=from the cli", "--as", "ops") == 0
    run = TaskRun.objects.get()
    assert (run.payload, run.triggered_by, run.principal) == ({"message": "from the cli"}, "cli", "ops")
    drive()
    capsys.readouterr()
    assert legion("task", "show", str(run.pk)) == 0
    out = capsys.readouterr().out
    assert f"run {run.pk}  core.basic.log  succeeded" in out
    assert '"message": "from the cli"' in out


def test_task_run_needs_a_principal_allowed_to_execute(observer: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert legion("task", "run", "core.basic.log", "message=x", "--as", "") == 2
    assert legion("task", "run", "core.basic.log", "message=x", "--as", "watcher") == 1
    assert "permission_denied" in capsys.readouterr().err
    assert not TaskRun.objects.exists()


def test_task_cancel_and_spool_status(operator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    legion("task", "run", "core.basic.log", "message=x", "--as", "ops")
    run = TaskRun.objects.get()
    assert legion("task", "cancel", str(run.pk)) == 0
    assert TaskRun.objects.get().status == RunStatus.CANCELLED
    assert legion("spool", "status") == 0
    assert "0 message(s)" in capsys.readouterr().out
