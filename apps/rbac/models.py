"""Principals (users, teams, service accounts), flat policies, and hashed API keys."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apps.rbac.globs import name_problem
from apps.rbac.validation import policy_document_problems


def _name_clean(name: str) -> None:
    problem = name_problem(name)
    if problem:
        raise ValidationError({"name": ValidationError(problem, code="invalid_name")})


class Policy(models.Model):
    """A flat, Vault-style policy: allow rules `{path, actions}` and deny rules `{path, actions?}`.

    Policies never include one another; a principal's power is the union of the policies attached
    to it and to the teams it belongs to, with any matching deny rule overriding every allow.
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    builtin = models.BooleanField(default=False, help_text="Shipped with Legion; read-only.")
    rules = models.JSONField(default=list, blank=True, help_text='Allow rules: [{"path": "...", "actions": [...]}]')
    deny = models.JSONField(default=list, blank=True, help_text='Deny rules: [{"path": "...", "actions": [...]?}]')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        _name_clean(self.name)
        problems = policy_document_problems(rules=self.rules, deny=self.deny)
        errors: dict[str, list[ValidationError]] = {}
        for problem in problems:
            top = problem.field.split(".", 1)[0]
            errors.setdefault(top, []).append(ValidationError(f"{problem.field}: {problem.message}",
                                                              code=problem.code))
        if errors:
            raise ValidationError(errors)


class PrincipalKind(models.TextChoices):
    USER = "user", "user"
    TEAM = "team", "team"
    SERVICE = "service", "service account"


class Principal(models.Model):
    """Who acts: a user (optionally a Django login), a team (a group of principals), or a service account."""

    kind = models.CharField(max_length=16, choices=PrincipalKind.choices, default=PrincipalKind.USER)
    name = models.CharField(max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="principal",
        help_text="The Django login this principal stands for (users only).",
    )
    teams = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="members", limit_choices_to={"kind": PrincipalKind.TEAM},
        help_text="Teams this principal is a direct member of; their policies apply to it.",
    )
    policies = models.ManyToManyField(Policy, blank=True, related_name="principals")
    is_active = models.BooleanField(default=True, help_text="Inactive principals are denied everything.")
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) | models.Q(kind=PrincipalKind.USER),
                name="rbac_principal_user_link_only_for_users",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    def clean(self) -> None:
        _name_clean(self.name)
        if self.user_id is not None and self.kind != PrincipalKind.USER:
            raise ValidationError({"user": ValidationError("only user principals link to a login",
                                                           code="invalid_user_link")})


class ApiKey(models.Model):
    """A bearer credential for a principal. The secret is shown once at creation and kept only as a hash."""

    principal = models.ForeignKey(Principal, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, default="", help_text="What the key is for.")
    prefix = models.CharField(max_length=8, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "prefix"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix} ({self.principal.name})" if self.principal_id else self.prefix

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired()
