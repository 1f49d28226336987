"""Schemathesis against the /api/v1 OpenAPI schema, as every kind of principal: no operation answers 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from apps.chains.models import Chain, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import chain_create, relationship_create
from apps.llm.services import alias_delete, alias_save, provider_delete, provider_save
from apps.rbac.models import Policy, Principal
from apps.rbac.services import api_key_create, policy_builtin_ensure, policy_create, principal_create
from apps.runners.models import Extension, Function
from apps.runners.services import registry_sync
from apps.schedules.services import schedule_create, schedule_delete
from apps.webhooks.services import webhook_create, webhook_delete
from tests.apps.rbac.factories import PrincipalFactory

# Built in-process: the served schema needs a key of its own (issue 9), and this needs no network.
RAW_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)

# Reproducible and bounded: a fixed seed, no example database, a few examples per operation and principal.
CONFIG = SchemathesisConfig.from_dict({
    "seed": 9,
    "generation": {"mode": "all", "database": "none", "deterministic": True},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
schema = schemathesis.openapi.from_dict(RAW_SCHEMA, config=CONFIG)
PRIVILEGED_EXAMPLES = 10  # per operation and principal
RESTRICTED_EXAMPLES = 3
# A deadline per example, generous for 2 shared cores (a hang fails instead of stalling the suite); no example
# database on disk; the health checks would only complain that generating some bodies is slow.
BOUNDS: dict[str, Any] = {"deadline": 5000, "database": None, "suppress_health_check": list(HealthCheck)}

# Principals by the built-in policies they hold; `None` is a request without credentials.
PRINCIPALS: dict[str, tuple[str, ...] | None] = {
    "admin": ("admin",),
    "operator": ("operator",),
    "observer": ("observer",),
    "unprivileged": (),
    "anonymous": None,
}

# 5xx a colleague's branch of issue 9 fixes: (method, path) -> why; expected to fail here until merged. None
# today: the bounded run does not reach the one open finding (a NUL in a webhook's or schedule's target names,
# found with seed 19 and the coverage phase on; tests/apps/chains/test_target_serializers.py expects it to fail).
KNOWN_SERVER_ERRORS: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def seeds(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """One committed row of each kind the operations address by id or name, so that examples reach past
    `not_found`: {path prefix: path parameter value}. Each request is rolled back, so they outlive every
    example; they are deleted after the module (and the registry too, if this module synced it)."""
    with django_db_blocker.unblock():
        policy_builtin_ensure()  # a transactional test run before may have flushed what the migration installed
        synced_here = not Function.objects.exists()
        registry_sync()
        log, echo = (Function.objects.get(qualified_name=name) for name in ("core.basic.log", "core.basic.echo"))
        chain = chain_create(name="fuzz-chain")
        relationship = relationship_create(by=HOST, chain=chain, trigger=log, action=echo)
        run = TaskRun.objects.create(function=log, chain=chain, chain_version=chain.version, payload={"message": "m"},
                                     idempotency_key="fuzz:seed", triggered_by="test")
        schedule = schedule_create(by=HOST, name="fuzz-schedule", interval_seconds=3600, function=log,
                                   payload={"message": "m"})
        webhook, _ = webhook_create(by=HOST, name="fuzz-hook", function=log)
        policy = policy_create(name="fuzz-policy", rules=[{"path": "tasks/*", "actions": ["read"]}])
        target = principal_create(name="fuzz-target", policies=[policy])
        key, _ = api_key_create(principal=target)
        provider = provider_save(name="fuzz-provider", kind="ollama", models=[{"id": "fuzz-model"}])
        alias = alias_save(name="fuzz-alias", members=["fuzz-model"])
    try:
        yield {
            "/chains/chains/": chain.pk, "/chains/relationships/": relationship.pk, "/chains/runs/": str(run.pk),
            "/chains/schedules/": schedule.pk, "/chains/webhooks/": webhook.pk, "/chains/hooks/": webhook.name,
            "/rbac/policies/": policy.name, "/rbac/principals/": target.name, "/rbac/api-keys/": key.prefix,
            "/runners/extensions/": "core", "/runners/functions/": log.qualified_name,
            "/proxy/providers/": provider.name, "/proxy/aliases/": alias.name,
        }
    finally:
        with django_db_blocker.unblock():
            alias_delete(alias=alias)
            provider_delete(provider=provider)
            run.delete()
            schedule_delete(schedule=schedule)
            webhook_delete(webhook=webhook)
            Chain.objects.filter(pk=chain.pk).delete()  # and its relationship
            Principal.objects.filter(pk=target.pk).delete()  # and its key
            policy.delete()
            if synced_here:
                Extension.objects.all().delete()


def aim_at_seeds(case: schemathesis.Case, seeds: dict[str, Any]) -> None:
    """Half the examples (by the parity of what was generated, so replays agree) address a seeded row."""
    for prefix, value in seeds.items():
        if case.path.startswith(f"/api/v1{prefix}") and case.path_parameters:
            (name,) = case.path_parameters
            if len(str(case.path_parameters[name])) % 2 == 0:
                case.path_parameters[name] = value
            return


@pytest.fixture(scope="module")
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI handler in this thread, sharing the test's transaction: like the test client, it must not
    close the connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def credentials_of(name: str) -> dict[str, str]:
    """Headers of one principal: a fresh key holding the named built-in policies, or none at all."""
    policies = PRINCIPALS[name]
    if policies is None:
        return {}
    principal = PrincipalFactory(
        name=f"fuzz-{name}", policies=[Policy.objects.get(name=policy, builtin=True) for policy in policies])
    return {"Authorization": f"Bearer {api_key_create(principal=principal)[1]}"}


def call_isolated(case: schemathesis.Case, **kwargs: Any) -> schemathesis.Response:
    """Each request in a savepoint rolled back after it: every example meets the same rows (a deleted principal
    or a revoked key does not leak into the next), and an aborted transaction does not poison the rest."""
    with transaction.atomic():
        response = case.call(**kwargs)
        transaction.set_rollback(True)
    return response


def check_no_server_error(case: schemathesis.Case, app: WSGIHandler, headers: dict[str, str],
                          seeds: dict[str, Any], request: pytest.FixtureRequest) -> None:
    aim_at_seeds(case, seeds)
    reason = KNOWN_SERVER_ERRORS.get((case.method.upper(), case.path))
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=False))
    response = call_isolated(case, app=app, headers=headers)
    case.validate_response(response, checks=[not_a_server_error])


@pytest.fixture(params=["admin", "operator"])
def privileged(request: pytest.FixtureRequest, db: None) -> dict[str, str]:
    return credentials_of(request.param)


@pytest.fixture(params=["observer", "unprivileged", "anonymous"])
def restricted(request: pytest.FixtureRequest, db: None) -> dict[str, str]:
    return credentials_of(request.param)


@schema.parametrize()
@settings(max_examples=PRIVILEGED_EXAMPLES, **BOUNDS)
def test_no_operation_answers_5xx_to_a_principal_allowed_to_use_it(
        case: schemathesis.Case, wsgi_app: WSGIHandler, seeds: dict[str, Any], privileged: dict[str, str],
        request: pytest.FixtureRequest) -> None:
    check_no_server_error(case, wsgi_app, privileged, seeds, request)


@schema.parametrize()
@settings(max_examples=RESTRICTED_EXAMPLES, **BOUNDS)
def test_no_operation_answers_5xx_to_a_principal_refused_most_of_it(
        case: schemathesis.Case, wsgi_app: WSGIHandler, seeds: dict[str, Any], restricted: dict[str, str],
        request: pytest.FixtureRequest) -> None:
    """Observers may read, the unprivileged and the anonymous may do almost nothing: most requests stop at
    authentication or authorization, so fewer examples cover them."""
    check_no_server_error(case, wsgi_app, restricted, seeds, request)
