"""Policy services: validation on save, built-ins read-only and self-restoring, attachment."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apps.core.errors import ApplicationError
from apps.rbac.builtin import BUILTIN_NAMES
from apps.rbac.checks import PolicyInvalid
from apps.rbac.models import Policy
from apps.rbac.services import (
    policy_attach,
    policy_builtin_ensure,
    policy_create,
    policy_delete,
    policy_detach,
    policy_update,
)
from tests.apps.rbac.factories import PolicyFactory, PrincipalFactory

pytestmark = pytest.mark.django_db


def test_policy_create_stores_a_valid_document() -> None:
    policy = policy_create(name="runners-exec", rules=[{"path": "runners/+/+/+", "actions": ["execute"]}],
                           deny=[{"path": "runners/lex-shell/*"}], description="run anything but the shell")

    assert Policy.objects.get(name="runners-exec").deny == [{"path": "runners/lex-shell/*"}]
    assert policy.builtin is False


def test_policy_create_rejects_a_bad_glob_with_its_field() -> None:
    with pytest.raises(PolicyInvalid) as caught:
        policy_create(name="bad", rules=[{"path": "tasks/x+", "actions": ["read"]}])

    assert (caught.value.code, caught.value.field, caught.value.status) == ("invalid_path", "rules.0.path", 400)
    assert not Policy.objects.filter(name="bad").exists()


def test_policy_update_validates_the_resulting_document() -> None:
    policy = PolicyFactory()

    with pytest.raises(PolicyInvalid) as caught:
        policy_update(policy=policy, deny=[{"path": "tasks/*", "actions": ["erase"]}])

    assert (caught.value.code, caught.value.field) == ("invalid_action", "deny.0.actions.0")


def test_policy_names_are_unique_including_builtins() -> None:
    with pytest.raises(ApplicationError) as caught:
        policy_create(name="admin", rules=[])

    assert caught.value.code == "name_taken"


@pytest.mark.parametrize("change", [
    lambda p: policy_update(policy=p, description="mine now"),
    lambda p: policy_delete(policy=p),
])
def test_builtin_policies_are_read_only(change: Callable[[Policy], object]) -> None:
    with pytest.raises(ApplicationError) as caught:
        change(Policy.objects.get(name="operator"))

    assert (caught.value.code, caught.value.status) == ("builtin_policy_readonly", 409)


def test_builtins_are_installed_and_ensure_is_idempotent() -> None:
    assert set(Policy.objects.filter(builtin=True).values_list("name", flat=True)) == BUILTIN_NAMES
    assert policy_builtin_ensure() == []


def test_ensure_restores_a_tampered_builtin() -> None:
    Policy.objects.filter(name="observer").update(deny=[])
    Policy.objects.filter(name="worker").delete()

    assert sorted(policy_builtin_ensure()) == ["observer", "worker"]
    assert Policy.objects.get(name="observer").deny != []


def test_attach_and_detach_are_idempotent() -> None:
    principal, policy = PrincipalFactory(), PolicyFactory()

    policy_attach(principal=principal, policy=policy)
    policy_attach(principal=principal, policy=policy)
    assert list(principal.policies.all()) == [policy]

    policy_detach(principal=principal, policy=policy)
    policy_detach(principal=principal, policy=policy)
    assert list(principal.policies.all()) == []
