"""Wire fields every trigger (schedule, actor, webhook) shares: what it starts, by name, and as whom."""

from __future__ import annotations

from rest_framework import serializers

from apps.chains.models import Chain
from apps.core.api.fields import SlugLookupField
from apps.rbac.models import Principal
from apps.runners.models import Function


class TargetSerializer(serializers.ModelSerializer):
    """`function` by qualified name, `chain` by name (exactly one, checked by the services), `run_as` by name."""

    function = SlugLookupField(slug_field="qualified_name", queryset=Function.objects.all(),
                                            required=False, allow_null=True)
    chain = SlugLookupField(slug_field="name", queryset=Chain.objects.all(), required=False,
                                         allow_null=True)
    run_as = SlugLookupField(slug_field="name", queryset=Principal.objects.all(), required=False,
                                          allow_null=True)
