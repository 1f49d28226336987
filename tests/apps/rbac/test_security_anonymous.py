"""`anonymous` is a built-in principal like the built-in policies: installed by migrate, holding the
`anonymous` policy, editable by administrators, never renamed, deleted or given keys (issue 9)."""

from __future__ import annotations

import pytest

from apps.core.errors import ApplicationError
from apps.rbac.authorization import authorize
from apps.rbac.models import Policy, Principal
from apps.rbac.selectors import principal_anonymous
from apps.rbac.services import api_key_create, policy_detach, principal_delete, principal_update

pytestmark = pytest.mark.django_db


def test_migrate_installs_the_anonymous_principal_with_its_policy() -> None:
    principal = principal_anonymous()

    assert principal is not None and principal.kind == "service" and principal.user is None
    assert [p.name for p in principal.policies.all()] == ["anonymous"]
    assert Policy.objects.get(name="anonymous").builtin
    assert authorize(principal, "execute", "models/local/ollama/llama3").allowed
    assert not authorize(principal, "read", "tasks/1").allowed


def test_administrators_change_what_anonymous_may_do() -> None:
    principal = principal_anonymous()
    assert principal is not None

    policy_detach(principal=principal, policy=Policy.objects.get(name="anonymous"))

    assert not authorize(Principal.objects.get(pk=principal.pk), "execute", "models/local/ollama/llama3").allowed


@pytest.mark.parametrize("change", [
    lambda p: principal_delete(principal=p),
    lambda p: principal_update(principal=p, name="someone"),
], ids=["delete", "rename"])
def test_the_anonymous_principal_cannot_be_deleted_or_renamed(change: object) -> None:
    with pytest.raises(ApplicationError) as refusal:
        change(principal_anonymous())  # type: ignore[operator]

    assert refusal.value.code == "builtin_principal"


def test_the_anonymous_principal_holds_no_keys() -> None:
    with pytest.raises(ApplicationError) as refusal:
        api_key_create(principal=principal_anonymous())  # type: ignore[arg-type]

    assert refusal.value.code == "invalid_principal"
