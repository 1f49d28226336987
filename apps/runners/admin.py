"""Admin for the registry: read-only, since extensions are written from source by the sync."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.runners.models import Extension, Function, Runner


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "source", "available", "synced_at"]
    list_filter = ["available"]
    search_fields = ["name", "description"]


@admin.register(Runner)
class RunnerAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "description", "available"]
    list_filter = ["extension", "available"]


@admin.register(Function)
class FunctionAdmin(ReadOnlyAdmin):
    list_display = ["qualified_name", "risk_tier", "idempotent", "max_attempts", "available"]
    list_filter = ["risk_tier", "idempotent", "available", "runner__extension"]
    search_fields = ["qualified_name", "description"]
