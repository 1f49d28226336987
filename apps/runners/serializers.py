"""Wire shapes of extensions and runner functions (read-only: the registry is written from source)."""

from __future__ import annotations

from rest_framework import serializers

from apps.runners.models import Extension, Function


class FunctionSerializer(serializers.ModelSerializer):
    extension = serializers.CharField(source="runner.extension.name", read_only=True)
    runner = serializers.CharField(source="runner.name", read_only=True)

    class Meta:
        model = Function
        fields = [
            "qualified_name", "extension", "runner", "name", "description", "input_schema", "output_schema",
            "idempotent", "risk_tier", "trigger_words", "max_attempts", "backoff_seconds", "available",
        ]


class ExtensionSerializer(serializers.ModelSerializer):
    runners = serializers.SerializerMethodField()

    class Meta:
        model = Extension
        fields = ["name", "version", "description", "trigger_words", "capabilities", "settings_schema", "source",
                  "available", "synced_at", "runners"]

    def get_runners(self, extension: Extension) -> list[dict[str, object]]:
        return [
            {"name": runner.name, "description": runner.description,
             "functions": [f.qualified_name for f in runner.functions.all()]}
            for runner in extension.runners.all()
        ]
