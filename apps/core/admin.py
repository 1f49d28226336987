"""The admin's login form: failed logins are throttled (apps/core/login_throttle.py) before a password is checked."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from apps.core.errors import ApplicationError
from apps.core.login_throttle import check_login_allowed, login_failure_record, login_success_record


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        try:
            check_login_allowed(username=username, address=address)
        except ApplicationError as exc:
            raise ValidationError(exc.message, code=exc.code) from exc
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login":
                login_failure_record(username=username, address=address)
            raise
        login_success_record(username=username)
        return cleaned


admin.site.login_form = ThrottledAdminLoginForm
