"""The runner SDK: every name it offers resolves, and a run's context answers "may this run's principal do that?"
as RBAC does (that extensions import Legion only through the SDK is an import-linter contract, pyproject.toml)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.runners import sdk
from apps.runners.definitions import RunContext
from apps.runners.selectors import run_authorizer
from tests.apps.jobs import principal_with

LOOPBACK = "network/loopback/127.0.0.1/80"


def test_every_name_the_sdk_offers_resolves() -> None:
    missing = [name for name in sdk.__all__ if getattr(sdk, name, None) is None]
    assert missing == []


def test_a_context_without_an_authorizer_refuses_everything() -> None:
    ctx = RunContext(run_id="r1", idempotency_key="k1", attempt=1, function="t.t.f")
    assert ctx.principal == ""
    assert ctx.authorize("execute", LOOPBACK) is False


@pytest.mark.django_db
@pytest.mark.parametrize(("principal", "allowed"), [("boss", True), ("ops", False), ("nobody", False), ("", False)])
def test_the_engine_binds_the_runs_principal_to_rbac(principal: str, allowed: bool, db: Any) -> None:
    principal_with("boss", "admin")
    principal_with("ops", "operator")
    ctx = RunContext(run_id="r1", idempotency_key="k1", attempt=1, function="t.t.f", principal=principal,
                     authorizer=run_authorizer(principal=principal))

    assert ctx.authorize("execute", LOOPBACK) is allowed
