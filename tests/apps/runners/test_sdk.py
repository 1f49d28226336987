"""The runner SDK: every name it offers resolves, extensions import Legion through it alone, and a run's
context answers "may this run's principal do that?" as RBAC does."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from apps.runners import sdk
from apps.runners.definitions import RunContext
from apps.runners.selectors import run_authorizer
from tests.apps.jobs import principal_with

EXTENSIONS = Path(__file__).resolve().parents[3] / "extensions"
LOOPBACK = "network/loopback/127.0.0.1/80"


def test_every_name_the_sdk_offers_resolves() -> None:
    missing = [name for name in sdk.__all__ if getattr(sdk, name, None) is None]
    assert missing == []


def test_extensions_import_legion_only_through_the_sdk() -> None:
    imported: set[str] = set()
    for path in EXTENSIONS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    legion = {name for name in imported if name.split(".")[0] in {"apps", "legion_site", "proxy"}}
    assert legion == {"apps.runners.sdk"}


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
