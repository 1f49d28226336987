"""`legion rbac …` through call_command: check's exit codes, principals, keys and the policy list."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.rbac.models import ApiKey, Principal
from apps.rbac.services import api_key_authenticate
from tests.apps.rbac.conftest import Builtin
from tests.apps.rbac.factories import PolicyFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def legion(*args: str) -> int:
    """Run `legion <args>`; the exit status (the command raises SystemExit for non-zero)."""
    try:
        call_command("legion", *args)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_check_allow_exits_0_and_names_the_rule(capsys: pytest.CaptureFixture[str], builtin: Builtin) -> None:
    ServiceFactory(name="w1", policies=[builtin("worker")])

    code = legion("rbac", "check", "w1", "execute", "runners/lex-http/request/get")

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "ALLOW w1 execute runners/lex-http/request/get"
    assert "allow runners* [execute, read, list] in policy worker" in out


def test_check_deny_exits_1_and_names_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    ServiceFactory(name="w2", policies=[PolicyFactory(name="guard", rules=[{"path": "*", "actions": ["*"]}],
                                                      deny=[{"path": "rbac/*"}])])

    code = legion("rbac", "check", "w2", "update", "rbac/policies/x")

    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("DENY w2 update rbac/policies/x") and "deny rbac/* [*] in policy guard" in out


def test_check_without_policies_explains_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    ServiceFactory(name="bare")

    assert legion("rbac", "check", "bare", "read", "tasks/1") == 1
    assert "reason: no policies attached" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "code"), [
    (["ghost", "read", "tasks/1"], "principal_not_found"),
    (["bare", "zap", "tasks/1"], "invalid_action"),
    (["bare", "read", "tasks//1"], "invalid_resource"),
])
def test_check_errors_exit_2_with_the_code(capsys: pytest.CaptureFixture[str], args: list[str], code: str) -> None:
    ServiceFactory(name="bare")

    assert legion("rbac", "check", *args) == 2
    assert code in capsys.readouterr().err


def test_principal_create_attaches_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert legion("rbac", "principal", "create", "ops-bot", "--kind", "service", "--policy", "operator") == 0

    principal = Principal.objects.get(name="ops-bot")
    assert (principal.kind, [p.name for p in principal.policies.all()]) == ("service", ["operator"])


def test_key_create_prints_a_working_key_once_and_revoke_stops_it(capsys: pytest.CaptureFixture[str]) -> None:
    principal = ServiceFactory(name="cli-bot")

    assert legion("rbac", "key", "create", "cli-bot", "--name", "laptop", "--expires-in-days", "30") == 0
    raw = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("lgn_"))
    api_key = ApiKey.objects.get(principal=principal)
    assert api_key_authenticate(raw_key=raw) == principal and api_key.name == "laptop"
    assert api_key.expires_at is not None

    assert legion("rbac", "key", "revoke", api_key.prefix) == 0
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_policies_lists_builtins_and_their_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert legion("rbac", "policies") == 0

    out = capsys.readouterr().out
    assert "observer (built-in)" in out and "deny  rbac/api-keys*  [*]" in out
