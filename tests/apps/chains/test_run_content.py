"""A run's sensitive content (fields its function's schemas mark `writeOnly`, credential-named fields) is masked
for readers without `read_content` on the function: in the API, the admin and the CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from apps.chains.models import TaskRun
from apps.core.masking import MASK
from apps.rbac.authorization import principal_for_user
from apps.rbac.models import Policy
from apps.rbac.services import policy_attach
from tests.apps.jobs import api_for, run_create

pytestmark = pytest.mark.usefixtures("registry")

SECRET = "Bearer s3cret-token"


@pytest.fixture
def run(db: None) -> TaskRun:
    """An http call whose `headers` the function marks sensitive, with a credential-named field in its result."""
    run = run_create("http.request.get", {"url": "https://example.org/", "headers": {"Authorization": SECRET}})
    TaskRun.objects.filter(pk=run.pk).update(result={"status": 200, "url": "https://example.org/", "body": "",
                                                     "json": None, "redirects": 0,
                                                     "headers": {"Set-Cookie": "sid=s3cret-cookie", "Age": "1"}})
    return run


def test_an_observer_reads_runs_with_sensitive_fields_masked(run: TaskRun, observer: Any) -> None:
    api = api_for(observer)

    detail = api.get(f"/api/v1/chains/runs/{run.pk}/").json()
    listed = api.get("/api/v1/chains/runs/").json()["results"][0]

    for shown in (detail, listed):
        assert shown["payload"] == {"url": "https://example.org/", "headers": MASK}
        assert shown["result"]["headers"] == {"Set-Cookie": MASK, "Age": "1"}
        assert "s3cret" not in json.dumps(shown)


def test_an_operator_reads_runs_whole(run: TaskRun, operator: Any) -> None:
    detail = api_for(operator).get(f"/api/v1/chains/runs/{run.pk}/").json()

    assert detail["payload"]["headers"] == {"Authorization": SECRET}
    assert detail["result"]["headers"]["Set-Cookie"] == "sid=s3cret-cookie"


def test_the_admin_masks_a_runs_page_for_a_staff_user_without_read_content(run: TaskRun, client: Client) -> None:
    user = get_user_model().objects.create_user(username="viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_taskrun"))
    policy_attach(principal=principal_for_user(user), policy=Policy.objects.get(name="observer"))
    client.force_login(user)

    page = client.get(f"/admin/chains/taskrun/{run.pk}/change/")

    assert page.status_code == 200
    assert "s3cret" not in page.content.decode() and MASK in page.content.decode()
    assert TaskRun.objects.get(pk=run.pk).payload["headers"] == {"Authorization": SECRET}, "the row is untouched"


def test_the_admin_shows_a_superuser_the_whole_run(run: TaskRun, admin_client: Client) -> None:
    assert "s3cret-token" in admin_client.get(f"/admin/chains/taskrun/{run.pk}/change/").content.decode()


def test_task_show_masks_for_the_principal_it_shows_as(run: TaskRun, observer: Any, operator: Any,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    shown = {}
    for name in ("watcher", "ops", None):
        call_command("legion", "task", "show", str(run.pk), "--json", *(["--as", name] if name else []))
        shown[name] = json.loads(capsys.readouterr().out)

    assert shown["watcher"]["payload"]["headers"] == MASK and shown[None]["payload"]["headers"] == MASK
    assert shown["ops"]["payload"]["headers"] == {"Authorization": SECRET}
