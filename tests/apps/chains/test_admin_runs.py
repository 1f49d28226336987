"""The task-run admin: read-only, and a run's page shows who holds it and when the sweeper last sent it again."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.chains.models import RunStatus, TaskRun
from tests.apps.jobs import run_create

pytestmark = pytest.mark.usefixtures("registry")


def test_a_runs_page_shows_its_holder_and_last_sweep_and_cannot_be_edited(admin_client: Client, db: Any) -> None:
    run = run_create("core.basic.log", {"message": "x"})
    TaskRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, holder=424242, swept_at=timezone.now())

    page = admin_client.get(f"/admin/chains/taskrun/{run.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "Holder" in body and "424242" in body and "Swept at" in body
    assert 'name="_save"' not in body, "runs are the engine's record: read-only in the admin"
    assert admin_client.post(f"/admin/chains/taskrun/{run.pk}/change/", {"status": "succeeded"}).status_code == 403
