"""Serializer fields every app's API shares."""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers


class SlugLookupField(serializers.SlugRelatedField):
    """A related row by one of its text columns. A NUL is refused before the lookup, as `CharField` refuses it:
    PostgreSQL text cannot hold one, so the query would fail (a 500) instead of finding nothing."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            ProhibitNullCharactersValidator()(data)
        return super().to_internal_value(data)
