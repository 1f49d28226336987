"""Security: nobody gains another principal's rights through the job engine.

Acting as someone else (a trigger's `run_as`), hijacking someone else's runs (relationships that fire for
anyone), reading someone else's runs through their idempotency keys, and cloning a chain one may not read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from apps.actors.models import Actor
from apps.actors.services import actor_create
from apps.chains.models import Chain, RunStatus, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import chain_create
from apps.chains.services.principals import principal_decide
from apps.chains.services.runs import run_trigger
from apps.rbac.authorization import principal_for_user
from apps.rbac.models import Policy, Principal
from apps.rbac.services import policy_attach, policy_create
from apps.schedules.models import Schedule
from apps.schedules.services import schedule_create
from apps.webhooks.models import Webhook
from apps.webhooks.services import webhook_create
from tests.apps.jobs import api_for, drive, function, link, principal_with

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Trigger:
    """One trigger kind: its collection in the API and the admin, and how to make one running as someone."""

    kind: str
    model: type[Any]
    body: dict[str, Any]
    admin_form: dict[str, str]

    @property
    def url(self) -> str:
        return f"/api/v1/chains/{self.kind}/"

    def make(self, run_as: Principal) -> Any:
        log = function("core.basic.log")
        if self.model is Webhook:
            return webhook_create(by=HOST, name="hook", function=log, run_as=run_as)[0]
        if self.model is Schedule:
            return schedule_create(by=HOST, name="tick", interval_seconds=60, function=log,
                                   payload={"message": "x"}, run_as=run_as)
        return actor_create(by=HOST, name="beat", kind="every", function=log, payload={"message": "x"},
                            options={"interval_seconds": 60}, run_as=run_as)


def _management(prefix: str) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "0"}


TRIGGERS = [
    Trigger("webhooks", Webhook, {"name": "hook", "function": "core.basic.log"},
            {"name": "hook", "transformation": "", "enabled": "on"}),
    Trigger("schedules", Schedule, {"name": "tick", "interval_seconds": 60, "function": "core.basic.log",
                                    "payload": {"message": "x"}},
            {"name": "tick", "interval_seconds": "60", "timezone": "UTC", "payload": '{"message": "x"}',
             "catch_up": "once", "enabled": "on", **_management("fires")}),
    Trigger("actors", Actor, {"name": "beat", "kind": "every", "function": "core.basic.log",
                              "payload": {"message": "x"}, "options": {"interval_seconds": 60}},
            {"name": "beat", "kind": "every", "payload": '{"message": "x"}', "options": '{"interval_seconds": 60}',
             "enabled": "on", **_management("state")}),
]
KINDS = [pytest.param(trigger, id=trigger.kind) for trigger in TRIGGERS]


@pytest.fixture
def root(registry: None) -> Principal:
    """An administrator: may act as anyone."""
    return principal_with("root", "admin")


def _staff_operator() -> User:
    """A Django staff login with every model permission of the job engine and its triggers, whose principal is an
    operator."""
    user = User.objects.create_user("staff-ops", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(
        content_type__app_label__in=["chains", "actors", "schedules", "webhooks"]))
    policy_attach(principal=principal_for_user(user), policy=Policy.objects.get(name="operator"))
    return user


# Acting as someone else -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("trigger", KINDS)
def test_saving_a_trigger_that_runs_as_another_principal_needs_the_right_to_act_as_it(
    trigger: Trigger, root: Principal, operator: Principal,
) -> None:
    refused = api_for(operator).post(trigger.url, {**trigger.body, "run_as": "root"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"], refused.json()["error"]["field"]) == (
        403, "permission_denied", "run_as")
    assert not trigger.model.objects.exists()


@pytest.mark.parametrize("trigger", KINDS)
def test_acting_as_oneself_needs_nothing_more_and_an_admin_may_act_as_anyone(
    trigger: Trigger, root: Principal, operator: Principal,
) -> None:
    mine = api_for(operator).post(trigger.url, {**trigger.body, "run_as": "ops"}, format="json")
    assert mine.status_code == 201, mine.json()
    theirs = api_for(root).post(trigger.url, {**trigger.body, "name": "theirs", "run_as": "ops"}, format="json")
    assert theirs.status_code == 201, theirs.json()


@pytest.mark.parametrize("trigger", KINDS)
def test_changing_a_trigger_that_runs_as_another_principal_needs_the_right_to_act_as_it(
    trigger: Trigger, root: Principal, operator: Principal,
) -> None:
    saved = trigger.make(run_as=root)
    api = api_for(operator)
    # Retargeting an administrator's trigger would run anything as the administrator.
    refused = api.patch(f"{trigger.url}{saved.pk}/", {"description": "mine now"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    saved.refresh_from_db()
    assert (saved.description, saved.run_as) == ("", root)
    # Making it run as oneself is no escalation: from then on it has the caller's rights, no more.
    taken = api.patch(f"{trigger.url}{saved.pk}/", {"description": "mine now", "run_as": "ops"}, format="json")
    assert taken.status_code == 200, taken.json()


@pytest.mark.parametrize("trigger", KINDS)
def test_the_admin_refuses_a_trigger_that_runs_as_someone_the_user_may_not_act_as(
    trigger: Trigger, client: Client, root: Principal,
) -> None:
    client.force_login(_staff_operator())
    form = {**trigger.admin_form, "function": str(function("core.basic.log").pk), "run_as": str(root.pk)}
    refused = client.post(f"/admin/{trigger.model._meta.app_label}/{trigger.model._meta.model_name}/add/", form)
    assert refused.status_code == 200 and b"impersonate on rbac/principals/root denied" in refused.content
    assert not trigger.model.objects.exists()
    mine = client.post(f"/admin/{trigger.model._meta.app_label}/{trigger.model._meta.model_name}/add/",
                       {**form, "run_as": str(Principal.objects.get(name="staff-ops").pk)})
    assert mine.status_code == 302 and trigger.model.objects.exists()


def test_rotating_a_webhook_secret_is_acting_as_its_principal(root: Principal, operator: Principal,
                                                               client: Client) -> None:
    webhook = TRIGGERS[0].make(run_as=root)
    refused = api_for(operator).post(f"/api/v1/chains/webhooks/{webhook.pk}/rotate-secret/", {}, format="json")
    assert (refused.status_code, refused.json()["error"]["field"]) == (403, "run_as")
    client.force_login(_staff_operator())
    before = Webhook.objects.get().secret_encrypted
    client.post("/admin/webhooks/webhook/", {"action": "rotate_secret", "_selected_action": [str(webhook.pk)]})
    assert Webhook.objects.get().secret_encrypted == before


def test_an_actor_without_run_as_runs_as_the_configured_principal_and_saving_it_is_acting_as_that(
    root: Principal, operator: Principal, config: Callable[[str, Any], None],
) -> None:
    config("actors.principal", "root")
    refused = api_for(operator).post("/api/v1/chains/actors/", TRIGGERS[2].body, format="json")
    assert (refused.status_code, refused.json()["error"]["field"]) == (403, "run_as")


# Hijacking another principal's runs ------------------------------------------------------------------------------

@pytest.fixture
def editor(registry: None) -> Principal:
    """May edit every chain and execute core runners, nothing else (no HTTP)."""
    policy = policy_create(name="chain-editor", rules=[
        {"path": "chains*", "actions": ["*"]}, {"path": "runners/core/*", "actions": ["execute", "read"]}])
    principal = principal_with("editor", "observer")
    policy_attach(principal=principal, policy=policy)
    return principal


@pytest.mark.parametrize("side", ["trigger", "action"])
def test_saving_a_relationship_needs_execute_on_its_trigger_and_its_action(editor: Principal, side: str) -> None:
    chain = chain_create(name="mine")
    ends = {"trigger": "core.basic.echo", "action": "core.basic.log", side: "http.request.get"}
    refused = api_for(editor).post("/api/v1/chains/relationships/", {"chain": "mine", **ends}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    allowed = api_for(editor).post("/api/v1/chains/relationships/", {
        "chain": "mine", "trigger": "core.basic.echo", "action": "core.basic.log"}, format="json")
    assert allowed.status_code == 201, allowed.json()
    changed = api_for(editor).patch(f"/api/v1/chains/relationships/{allowed.json()['id']}/",
                                    {"action": "http.request.get"}, format="json")
    assert changed.status_code == 403
    assert chain.relationships.get().action.qualified_name == "core.basic.log"


def test_the_admin_refuses_a_relationship_whose_action_the_user_may_not_execute(
    client: Client, registry: None, editor: Principal,
) -> None:
    user = User.objects.create_user("staff-editor", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="chains"))
    principal = principal_for_user(user)
    principal.policies.set(editor.policies.all())
    client.force_login(user)
    chain = chain_create(name="mine")
    form = {"chain": str(chain.pk), "trigger": str(function("core.basic.echo").pk),
            "action": str(function("http.request.get").pk), "transformation_kind": "cel", "delay_seconds": "0",
            "active": "on"}
    refused = client.post("/admin/chains/relationship/add/", form)
    assert refused.status_code == 200 and b"not allowed to execute http.request.get" in refused.content
    assert not chain.relationships.exists()


def test_a_relationship_firing_for_anyone_starts_nothing_its_principal_may_not_execute(
    registry: None, editor: Principal,
) -> None:
    # An administrator's chain fires on every echo, whoever runs it, and logs: the editor may echo, not log.
    Policy.objects.filter(name="chain-editor").update(rules=[
        {"path": "runners/core/basic/echo", "actions": ["execute"]}])
    chain = chain_create(name="audit")
    link(chain, "core.basic.echo", "core.basic.log", allow_new_chains=True,
         transformation='{"message": "echoed"}')
    run = run_trigger(function=function("core.basic.echo"), payload={"data": {"x": 1}}, principal=editor,
                      triggered_by="test")
    assert drive() == ["succeeded"]
    child = TaskRun.objects.get(parent=run)
    assert (child.status, child.error["code"], child.principal) == (RunStatus.REFUSED, "permission_denied", "editor")
    assert "core.basic.log" in child.error["message"] and child.finished_at is not None
    assert child.payload == {}  # the transformation never ran for a refused child


def test_a_principal_allowed_later_is_allowed_at_once_in_the_process_that_allowed_it(
    registry: None, editor: Principal,
) -> None:
    assert principal_decide(name="editor", action="execute", resource="runners/http/request/get").allowed is False
    policy_attach(principal=editor, policy=Policy.objects.get(name="operator"))
    # An RBAC write in this process is seen at once; other processes see it within a second.
    assert principal_decide(name="editor", action="execute", resource="runners/http/request/get").allowed


def test_authorizing_a_child_reads_the_principals_policies_once_per_worker(
    registry: None, editor: Principal, django_assert_num_queries: Any,
) -> None:
    principal_decide(name="editor", action="execute", resource="runners/core/basic/log")
    with django_assert_num_queries(0):
        for resource in ("runners/core/basic/log", "runners/http/request/get"):
            principal_decide(name="editor", action="execute", resource=resource)
    assert principal_decide(name="nobody", action="execute", resource="runners/core/basic/log").allowed is False


# Medium: idempotency keys and cloning ----------------------------------------------------------------------------

def test_an_idempotency_key_belongs_to_its_principal_and_function(registry: None, root: Principal,
                                                                   operator: Principal) -> None:
    def invoke(principal: Principal, name: str) -> Any:
        return api_for(principal).post(f"/api/v1/runners/functions/{name}/invoke/",
                                       {"payload": {"message": f"from {principal.name}"}},
                                       format="json", HTTP_IDEMPOTENCY_KEY="deploy-42")

    first = invoke(root, "core.basic.log").json()
    assert invoke(root, "core.basic.log").json()["id"] == first["id"]  # the same caller's retry
    theirs = invoke(operator, "core.basic.log").json()
    assert theirs["id"] != first["id"] and theirs["payload"] == {"message": "from ops"}
    other_function = invoke(root, "core.basic.echo").json()
    assert other_function["id"] != first["id"]
    assert TaskRun.objects.filter(idempotency_key="deploy-42").count() == 3


@pytest.mark.parametrize("url", ["/api/v1/runners/functions/core.basic.log/invoke/", "chain"])
def test_an_overlong_idempotency_key_header_is_a_400_naming_it(registry: None, root: Principal, url: str) -> None:
    if url == "chain":
        chain = chain_create(name="one")
        link(chain, "core.basic.echo", "core.basic.log")
        url = f"/api/v1/chains/chains/{chain.pk}/trigger/"
    response = api_for(root).post(url, {"payload": {"message": "x", "data": {}}}, format="json",
                                  HTTP_IDEMPOTENCY_KEY="k" * 1000)
    assert (response.status_code, response.json()["error"]["field"]) == (400, "Idempotency-Key")
    assert not TaskRun.objects.exists()


def test_cloning_a_chain_needs_read_on_the_source(registry: None) -> None:
    policy = policy_create(name="own-chains", rules=[{"path": "chains/mine*", "actions": ["*"]},
                                                     {"path": "runners*", "actions": ["execute"]}])
    principal = principal_with("cloner", "worker")
    policy_attach(principal=principal, policy=policy)
    secret = chain_create(name="secret")
    link(secret, "core.basic.echo", "core.basic.log")
    refused = api_for(principal).post(f"/api/v1/chains/chains/{secret.pk}/clone/", {"name": "mine-copy"},
                                      format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert not Chain.objects.filter(name="mine-copy").exists()
    mine = chain_create(name="mine")
    link(mine, "core.basic.echo", "core.basic.log")
    assert api_for(principal).post(f"/api/v1/chains/chains/{mine.pk}/clone/", {"name": "mine-copy"},
                                   format="json").status_code == 201
