"""Model-level validation (what the admin runs) and constraints."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from apps.rbac.models import Policy
from tests.apps.rbac.factories import PrincipalFactory, UserFactory


def test_policy_clean_rejects_a_bad_glob_with_its_path() -> None:
    policy = Policy(name="p", rules=[{"path": "tasks/a+", "actions": ["read"]}])

    with pytest.raises(ValidationError) as caught:
        policy.clean()

    errors = caught.value.error_dict["rules"]
    assert errors[0].code == "invalid_path"
    assert errors[0].message.startswith("rules.0.path:")


def test_policy_clean_rejects_an_unknown_deny_action() -> None:
    policy = Policy(name="p", rules=[], deny=[{"path": "tasks/*", "actions": ["nuke"]}])

    with pytest.raises(ValidationError) as caught:
        policy.clean()

    assert caught.value.error_dict["deny"][0].code == "invalid_action"


def test_policy_clean_rejects_a_name_that_is_not_a_segment() -> None:
    with pytest.raises(ValidationError) as caught:
        Policy(name="a/b", rules=[]).clean()

    assert caught.value.error_dict["name"][0].code == "invalid_name"


@pytest.mark.django_db
def test_only_user_principals_link_to_a_login() -> None:
    with pytest.raises(IntegrityError):
        PrincipalFactory(kind="service", user=UserFactory())
