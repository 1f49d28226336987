"""Shared serializer fields: a lookup by a text column refuses a NUL as a field error, never a 500."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from apps.core.api.fields import SlugLookupField
from apps.rbac.models import Policy

pytestmark = pytest.mark.django_db


class PolicyRefSerializer(serializers.Serializer):
    policy = SlugLookupField(slug_field="name", queryset=Policy.objects.all())


def test_a_nul_in_a_lookup_is_a_field_error() -> None:
    serializer = PolicyRefSerializer(data={"policy": "ad\x00min"})
    assert not serializer.is_valid()
    assert serializer.errors["policy"][0].code == "null_characters_not_allowed"


def test_a_name_without_a_nul_is_looked_up() -> None:
    serializer = PolicyRefSerializer(data={"policy": "admin"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["policy"].name == "admin"
