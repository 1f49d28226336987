"""`legion actors list|invoke` (the process itself is in test_runtime.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.actors.models import Actor
from apps.actors.services import actor_create
from apps.chains.models import TaskRun
from apps.chains.services.callers import HOST
from tests.apps.jobs import function, legion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]


def test_actors_list_and_invoke(operator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    actor_create(by=HOST, name="ping", kind="nothing", function=function("core.basic.log"), payload={"message": "ping"})
    assert legion("actors", "list") == 0
    assert "ping" in capsys.readouterr().out
    assert legion("actors", "invoke", "ping", "level=debug", "--as", "ops") == 0
    printed = json.loads(capsys.readouterr().out)
    assert TaskRun.objects.get(pk=printed["run"]).payload == {"message": "ping", "level": "debug"}
    assert Actor.objects.count() == 1
