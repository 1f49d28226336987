"""Serializer fields the RBAC API shares: names that are valid resource segments, principals by name."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.core.api.fields import SlugLookupField
from apps.rbac.globs import name_problem
from apps.rbac.models import Policy, Principal


def _name_valid(value: str) -> None:
    problem = name_problem(value)
    if problem:
        raise serializers.ValidationError(problem, code="invalid_name")


class NameField(serializers.CharField):
    """A principal or policy name: one resource segment (uniqueness is the service's to check)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)
        self.validators.append(_name_valid)


def principal_field(**kwargs: Any) -> serializers.SlugRelatedField:
    return SlugLookupField(slug_field="name", queryset=Principal.objects.all(), **kwargs)


def policy_field(**kwargs: Any) -> serializers.SlugRelatedField:
    return SlugLookupField(slug_field="name", queryset=Policy.objects.all(), **kwargs)
