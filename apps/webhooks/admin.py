"""Admin for webhooks: the secret is set or generated on save and shown once; a rotate action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.chains.admin_callers import CallerAdminMixin, CallerForm
from apps.chains.services.callers import check_run_as
from apps.core.errors import ApplicationError
from apps.rbac.authentication import request_principal
from apps.webhooks.models import Webhook
from apps.webhooks.selectors import webhook_secret_key_id
from apps.webhooks.services import check_webhook, webhook_create, webhook_rotate_secret, webhook_update

SAVED_FIELDS = ["name", "description", "function", "chain", "transformation", "run_as", "replay_window_seconds",
                "enabled"]


class WebhookForm(CallerForm):
    secret = forms.CharField(required=False, min_length=16, widget=forms.PasswordInput(render_value=False),
                             help_text="set a secret of your own (at least 16 characters); left empty, a new "
                                       "webhook gets a generated one and an existing one keeps its secret")

    class Meta:
        model = Webhook
        fields = [*SAVED_FIELDS, "secret"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            check_webhook(name=data.get("name") or "", function=data.get("function"), chain=data.get("chain"),
                          transformation=data.get("transformation") or "")
            check_run_as(by=self.by, run_as=data.get("run_as"))
        except ApplicationError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(Webhook)
class WebhookAdmin(CallerAdminMixin, admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "endpoint", "function", "chain", "run_as", "enabled", "received_count", "last_received_at",
                    "key_id"]
    list_filter = ["enabled"]
    list_select_related = ["function", "chain", "run_as"]
    search_fields = ["name", "description"]
    readonly_fields = ["received_count", "last_received_at"]
    actions = ["rotate_secret"]

    @admin.display(description="endpoint")
    def endpoint(self, webhook: Webhook) -> str:
        return f"/api/v1/chains/hooks/{webhook.name}/"

    @admin.display(description="secret key id")
    def key_id(self, webhook: Webhook) -> str:
        return webhook_secret_key_id(webhook=webhook) or "-"

    def save_model(self, request: HttpRequest, obj: Webhook, form: Any, change: bool) -> None:
        data = form.cleaned_data
        values = {key: data.get(key) for key in SAVED_FIELDS}
        by = request_principal(request)
        if change:
            saved = webhook_update(by=by, webhook=obj, **values)
            if data.get("secret"):
                webhook_rotate_secret(by=by, webhook=saved, secret=data["secret"])
        else:
            saved, secret = webhook_create(by=by, **values, secret=data.get("secret") or None)
            if not data.get("secret"):
                self.message_user(request, f"Secret of {saved.name} (copy it now, it is not shown again): {secret}",
                                  level=messages.WARNING)
        obj.pk = saved.pk

    @admin.action(description="Rotate the secret of the selected webhooks (shown once)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            try:
                secret = webhook_rotate_secret(by=request_principal(request), webhook=webhook)
            except ApplicationError as exc:
                self.message_user(request, f"{webhook.name}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"New secret of {webhook.name} (shown once): {secret}",
                                  level=messages.WARNING)
