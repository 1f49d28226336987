"""Admin for the proxy's lineup: providers with their models inline, aliases, and a live status page
(circuit breakers and concurrency leases, read from the same stores the proxies use)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from apps.llm.models import Alias, LlmModel, Provider
from apps.llm.status import provider_status_read
from apps.rbac.admin.access import RbacAdminMixin, admin_authorize_or_403


class LlmModelInline(admin.TabularInline):
    model = LlmModel
    extra = 1
    min_num = 1
    fields = ["model_id", "upstream", "capabilities", "context_window", "max_output", "price_in", "price_out", "tier"]


@admin.register(Provider)
class ProviderAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_collection = "proxy/providers"
    list_display = ["name", "kind", "tier", "base_url", "concurrency"]
    search_fields = ["name", "base_url"]
    inlines = [LlmModelInline]
    fields = ["name", "kind", "base_url", "tier", "api_key", "headers", "concurrency"]
    change_list_template = "admin/llm/provider/change_list.html"

    def get_list_display(self, request: HttpRequest) -> Any:
        # One read of the breaker store for the whole page, not one per row.
        statuses = {status.name: status for status in provider_status_read()}

        @admin.display(description="circuit breaker")
        def breaker(obj: Provider) -> str:
            return statuses[obj.name].breaker if obj.name in statuses else "unknown"

        return [*self.list_display, breaker]

    def get_urls(self) -> list[URLPattern]:
        status = path("status/", self.admin_site.admin_view(self.status_view), name="llm_provider_status")
        return [status, *super().get_urls()]

    def status_view(self, request: HttpRequest) -> HttpResponse:
        admin_authorize_or_403(request, "read", self.rbac_collection)
        context = {**self.admin_site.each_context(request), "title": "Proxy providers: live status",
                   "statuses": provider_status_read(), "opts": self.model._meta}
        return TemplateResponse(request, "admin/llm/provider/status.html", context)


@admin.register(Alias)
class AliasAdmin(RbacAdminMixin, admin.ModelAdmin):
    rbac_collection = "proxy/aliases"
    list_display = ["name", "members", "updated_at"]
    search_fields = ["name"]
    fields = ["name", "members"]
