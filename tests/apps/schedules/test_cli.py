"""`legion schedule add|list|fires|enable|disable|remove`."""

from __future__ import annotations

from typing import Any

import pytest

from apps.schedules.models import Schedule
from tests.apps.jobs import legion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]


def test_schedule_add_list_and_disable(operator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert legion("schedule", "add", "nightly", "0 3 * * *", "core.basic.log", "message=night", "--tz",
                  "Europe/Berlin", "--catch-up", "skip", "--as", "ops") == 0
    assert "cron '0 3 * * *' (Europe/Berlin) -> core.basic.log" in capsys.readouterr().out
    schedule = Schedule.objects.get()
    assert (schedule.payload, schedule.catch_up, schedule.run_as) == ({"message": "night"}, "skip", operator)
    assert legion("schedule", "add", "fast", "90", "core.basic.log") == 0
    assert legion("schedule", "list") == 0
    listed = capsys.readouterr().out
    assert "nightly" in listed and "every 90s" in listed
    assert legion("schedule", "disable", "fast") == 0
    assert not Schedule.objects.get(name="fast").enabled
    assert legion("schedule", "add", "bad", "0 3 * *", "core.basic.log") == 1
    assert "invalid_cron" in capsys.readouterr().err
