"""Provider instances, their models and aliases: the settings file's `proxy.providers`/`proxy.aliases` as rows.

Fields and validation are the settings format's (proxy/config.py validates both). Credentials are stored as
secret references (`env://…`, `file://…`, `vault://…`), never as resolved secrets; each proxy resolves them
when it builds its lineup.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from apps.core.config.secrets import SecretReferenceError, reference_parse
from proxy.config import TIERS, ConfigError, ModelSpec, provider_spec_validate

KINDS = ("openai", "anthropic", "ollama", "openai_compatible", "vllm", "llamacpp")
_PLACEHOLDER_MODEL = {"id": "placeholder"}


class Provider(models.Model):
    """One provider instance; `name` may not be one the settings file (or the bundled local model) declares."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=[(k, k) for k in KINDS])
    base_url = models.CharField(max_length=500, blank=True, default="", help_text="Default per kind when blank.")
    tier = models.CharField(max_length=16, blank=True, default="", choices=[(t, t) for t in TIERS],
                            help_text="Default per kind when blank.")
    api_key = models.JSONField(default=list, blank=True,
                               help_text='Secret references, a fallback chain: ["env://OPENAI_API_KEY"]. '
                                         "Never the key itself.")
    headers = models.JSONField(default=dict, blank=True, help_text="Extra HTTP headers sent upstream.")
    concurrency = models.PositiveIntegerField(default=64, help_text="Most simultaneous requests, over all proxies.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def entry(self, models_: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """This row in the settings file's format, with `models_` (default: its own models)."""
        entry: dict[str, Any] = {"name": self.name, "kind": self.kind, "concurrency": self.concurrency}
        if self.base_url:
            entry["base_url"] = self.base_url
        if self.tier:
            entry["tier"] = self.tier
        if self.api_key:
            entry["api_key"] = self.api_key
        if self.headers:
            entry["headers"] = self.headers
        entry["models"] = models_ if models_ is not None else [m.entry() for m in self.models.all()]
        return entry

    def clean(self) -> None:
        from apps.llm.selectors import settings_provider_names

        _not_declared_in_settings(self.name, settings_provider_names())
        if isinstance(self.api_key, str):
            self.api_key = [self.api_key]
        if not isinstance(self.api_key, list) or not all(isinstance(r, str) for r in self.api_key):
            raise ValidationError({"api_key": ValidationError("a list of secret references", code="invalid")})
        for reference in self.api_key:
            try:
                parsed = reference_parse(reference)
            except SecretReferenceError as exc:
                raise ValidationError({"api_key": ValidationError(str(exc), code="invalid_reference")}) from exc
            if parsed is None:  # a literal key would be stored in the database and shown in the admin
                raise ValidationError({"api_key": ValidationError(
                    "a secret reference (env://, file:// or vault://), never the key itself", code="not_a_reference")})
        _spec_check(self.entry([_PLACEHOLDER_MODEL]))


class LlmModel(models.Model):
    """A model a provider instance serves; `model_id` is what clients ask for (the settings format's `id`)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="models")
    model_id = models.CharField("id", max_length=200)
    upstream = models.CharField(max_length=200, blank=True, default="", help_text="The provider's name; default id.")
    capabilities = models.JSONField(default=list, blank=True,
                                    help_text="tools vision json thinking streaming embeddings prefill")
    context_window = models.PositiveIntegerField(default=8192)
    max_output = models.PositiveIntegerField(default=4096)
    price_in = models.FloatField(default=0.0, help_text="Per million input tokens.")
    price_out = models.FloatField(default=0.0, help_text="Per million output tokens.")
    tier = models.CharField(max_length=16, blank=True, default="", choices=[(t, t) for t in TIERS],
                            help_text="Overrides the provider's tier when set.")

    class Meta:
        ordering = ["provider__name", "id"]
        verbose_name = "model"
        constraints = [models.UniqueConstraint(fields=["provider", "model_id"], name="llm_model_unique_per_provider")]

    def __str__(self) -> str:
        return f"{self.provider_id and self.provider.name}/{self.model_id}"

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.model_id, "capabilities": list(self.capabilities), "context_window": self.context_window,
            "max_output": self.max_output, "price_in": self.price_in, "price_out": self.price_out,
        }
        if self.upstream:
            entry["upstream"] = self.upstream
        if self.tier:
            entry["tier"] = self.tier
        return entry

    def clean(self) -> None:
        try:
            ModelSpec.model_validate(self.entry())
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValidationError(_first_problem(exc), code="invalid_model") from exc


class Alias(models.Model):
    """A user alias over model ids or `provider/model` pairs; the settings file's aliases take precedence."""

    name = models.CharField(max_length=100, unique=True)
    members = models.JSONField(help_text='Model ids or provider/model pairs: ["llama3", "openai/gpt-4o"]')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "aliases"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from apps.llm.selectors import lineup_names, settings_alias_names

        _not_declared_in_settings(self.name, settings_alias_names())
        if isinstance(self.members, str):
            self.members = [self.members]
        if not isinstance(self.members, list) or not self.members or not all(
                isinstance(m, str) for m in self.members):
            raise ValidationError({"members": ValidationError("a non-empty list of model names", code="invalid")})
        unknown = [m for m in self.members if m not in lineup_names()]
        if unknown:
            raise ValidationError({"members": ValidationError(f"{unknown} name no declared model",
                                                              code="unknown_model")})


def _not_declared_in_settings(name: str, declared: set[str]) -> None:
    """The settings file wins name clashes (docs/proxy.md), so its names are refused here."""
    if name in declared:
        raise ValidationError({"name": ValidationError(
            f"'{name}' is declared in the settings file; choose another name", code="declared_in_settings")})


def _spec_check(entry: dict[str, Any]) -> None:
    try:
        provider_spec_validate(entry)
    except ConfigError as exc:
        raise ValidationError(str(exc), code="invalid_provider") from exc


def _first_problem(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(model)'}: {e['msg']}" for e in errors())
    return str(exc)
