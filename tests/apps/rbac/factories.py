"""factory-boy factories for RBAC rows; API keys come from the service (`issue_key` fixture) so the
raw key is known to the test."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory, Password

from apps.rbac.models import Policy, Principal, PrincipalKind


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"login{n}")
    password = Password("correct horse battery staple")
    is_staff = False
    is_superuser = False


class PolicyFactory(DjangoModelFactory):
    class Meta:
        model = Policy

    name = factory.Sequence(lambda n: f"policy-{n}")
    description = "test policy"
    rules = factory.LazyFunction(lambda: [{"path": "tasks/*", "actions": ["read"]}])
    deny = factory.LazyFunction(list)


class PrincipalFactory(DjangoModelFactory):
    class Meta:
        model = Principal
        skip_postgeneration_save = True  # the hooks only set many-to-many rows

    kind = PrincipalKind.USER
    name = factory.Sequence(lambda n: f"principal-{n}")
    is_active = True

    @factory.post_generation
    def policies(self, create: bool, extracted: list[Policy] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.policies.set(extracted)

    @factory.post_generation
    def teams(self, create: bool, extracted: list[Principal] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.teams.set(extracted)


class TeamFactory(PrincipalFactory):
    kind = PrincipalKind.TEAM
    name = factory.Sequence(lambda n: f"team-{n}")


class ServiceFactory(PrincipalFactory):
    kind = PrincipalKind.SERVICE
    name = factory.Sequence(lambda n: f"svc-{n}")
