"""The database mirror of the registry: extensions, their runners and runner functions."""

from __future__ import annotations

from django.db import models


class Extension(models.Model):
    name = models.CharField(max_length=100, unique=True)
    version = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    trigger_words = models.JSONField(default=list, blank=True)
    capabilities = models.JSONField(default=list, blank=True)
    settings_schema = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=200, help_text="local package or the entry point it came from")
    # False once the code is gone: rows stay so old task runs keep pointing at something.
    available = models.BooleanField(default=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


class Runner(models.Model):
    extension = models.ForeignKey(Extension, on_delete=models.CASCADE, related_name="runners")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    trigger_words = models.JSONField(default=list, blank=True)
    available = models.BooleanField(default=True)

    class Meta:
        ordering = ["extension__name", "name"]
        constraints = [models.UniqueConstraint(fields=["extension", "name"], name="runner_unique_per_extension")]

    def __str__(self) -> str:
        return f"{self.extension.name}.{self.name}"


class Function(models.Model):
    runner = models.ForeignKey(Runner, on_delete=models.CASCADE, related_name="functions")
    name = models.CharField(max_length=100)
    qualified_name = models.CharField(max_length=310, unique=True, help_text="<extension>.<runner>.<function>")
    description = models.TextField(blank=True)
    input_schema = models.JSONField(default=dict)
    output_schema = models.JSONField(default=dict)
    idempotent = models.BooleanField(default=False)
    risk_tier = models.CharField(max_length=20, default="standard")
    trigger_words = models.JSONField(default=list, blank=True)
    max_attempts = models.PositiveIntegerField(default=1)
    backoff_seconds = models.FloatField(default=1.0)
    available = models.BooleanField(default=True)

    class Meta:
        ordering = ["qualified_name"]
        constraints = [models.UniqueConstraint(fields=["runner", "name"], name="function_unique_per_runner")]

    def __str__(self) -> str:
        return self.qualified_name

    @property
    def resource(self) -> str:
        """The RBAC resource an invocation of this function is authorized against."""
        extension, runner, function = self.qualified_name.split(".", 2)
        return f"runners/{extension}/{runner}/{function}"
