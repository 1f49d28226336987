"""Schedules through the API (`schedules/<name>` in RBAC) and the admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.runners.models import Function
from apps.schedules.models import Schedule
from tests.apps.jobs import api_for

pytestmark = pytest.mark.django_db


def test_create_read_change_and_delete_a_schedule(operator: Any, registry: None) -> None:
    api = api_for(operator)
    created = api.post("/api/v1/chains/schedules/", {
        "name": "weekdays", "cron": "30 8 * * mon-fri", "timezone": "Asia/Tokyo", "function": "core.basic.log",
        "payload": {"message": "good morning"}, "catch_up": "skip", "run_as": "ops"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["cron"], body["timezone"], body["interval_seconds"], body["catch_up"]) == (
        "30 8 * * mon-fri", "Asia/Tokyo", None, "skip")
    assert body["next_tick_at"].endswith("23:30:00+00:00")  # 8:30 in Tokyo

    changed = api.patch(f"/api/v1/chains/schedules/{body['id']}/", {"interval_seconds": 300}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["cron"], changed.json()["interval_seconds"]) == (None, 300)

    bad = api.patch(f"/api/v1/chains/schedules/{body['id']}/", {"cron": "every day at noon"}, format="json")
    assert (bad.status_code, bad.json()["error"]["code"], bad.json()["error"]["field"]) == (400, "invalid_cron",
                                                                                              "cron")
    fires = api.get(f"/api/v1/chains/schedules/{body['id']}/fires/")
    assert fires.status_code == 200 and fires.json()["results"] == []
    assert api.delete(f"/api/v1/chains/schedules/{body['id']}/").status_code == 204
    assert not Schedule.objects.exists()


def test_an_observer_may_read_schedules_but_not_add_them(observer: Any, make_schedule: Callable[..., Any]) -> None:
    make_schedule()
    api = api_for(observer)
    assert api.get("/api/v1/chains/schedules/").json()["results"][0]["name"] == "tick"
    refused = api.post("/api/v1/chains/schedules/", {"name": "x", "interval_seconds": 5,
                                                     "function": "core.basic.log"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")


def test_the_admin_edits_timing_with_the_schedule(client: Client, admin_user: Any, registry: None) -> None:
    client.force_login(admin_user)
    function_id = str(Function.objects.get(qualified_name="core.basic.log").pk)
    form = {"name": "from-admin", "cron": "0 25 * * *", "timezone": "UTC", "function": function_id,
            "payload": '{"message": "x"}', "catch_up": "once", "enabled": "on",
            "fires-TOTAL_FORMS": "0", "fires-INITIAL_FORMS": "0", "fires-MIN_NUM_FORMS": "0",
            "fires-MAX_NUM_FORMS": "0"}
    refused = client.post("/admin/schedules/schedule/add/", form)
    assert refused.status_code == 200 and b"invalid cron expression" in refused.content
    saved = client.post("/admin/schedules/schedule/add/", {**form, "cron": "0 5 * * *"})
    assert saved.status_code == 302, saved.content[:3000]
    schedule = Schedule.objects.get(name="from-admin")
    assert schedule.periodic_task.crontab is not None and schedule.periodic_task.crontab.hour == "5"
    page = client.get(f"/admin/schedules/schedule/{schedule.pk}/change/")
    assert page.status_code == 200 and b"0 5 * * *" in page.content
    changed = client.post(f"/admin/schedules/schedule/{schedule.pk}/change/", {**form, "cron": "0 6 * * *"})
    assert changed.status_code == 302, changed.content[:3000]
    crontab = Schedule.objects.get(pk=schedule.pk).periodic_task.crontab
    assert crontab is not None and crontab.hour == "6"
    switched_off = {key: value for key, value in form.items() if key != "enabled"}
    assert client.post(f"/admin/schedules/schedule/{schedule.pk}/change/",
                       {**switched_off, "cron": "0 6 * * *"}).status_code == 302
    schedule = Schedule.objects.get(pk=schedule.pk)
    assert not schedule.enabled and not schedule.periodic_task.enabled
