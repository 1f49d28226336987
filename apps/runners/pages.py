"""Browser pages of the registry: the capability catalog, for people logged in (the admin's login)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.runners.catalog import catalog_build


@login_required(login_url="admin:login")
def catalog_page(request: HttpRequest) -> HttpResponse:
    """The same catalog as `GET /api/v1/runners/catalog/` and `legion catalog`, behind the same RBAC check."""
    from apps.rbac.authorization import authorize, principal_for_user

    # login_required has made sure this is a User, not AnonymousUser.
    decision = authorize(principal_for_user(request.user), "read", "extensions")  # type: ignore[arg-type]
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    catalog = catalog_build()
    context = {
        **admin.site.each_context(request),
        "title": "Capability catalog",
        "catalog": catalog,
        "extensions": [_extension_view(extension) for extension in catalog["extensions"]],
    }
    return render(request, "runners/catalog.html", context)


def _extension_view(extension: dict[str, Any]) -> dict[str, Any]:
    """The extension with what the template cannot compute: each function's inputs and settings as rows."""
    settings_schema = extension["settings_schema"] or {}
    return {
        **extension,
        "settings": [
            {"name": name, "type": spec.get("type", ""), "default": spec.get("default", ""),
             "secret": spec.get("writeOnly", False), "description": spec.get("description", "")}
            for name, spec in settings_schema.get("properties", {}).items()
        ],
        "runners": [
            {**runner, "functions": [{**function, "inputs": _inputs(function["input_schema"]),
                                      "outputs": _outputs(function["output_schema"]),
                                      "summary": (function["description"] or "").split("\n", 1)[0]}
                                     for function in runner["functions"]]}
            for runner in extension["runners"]
        ],
    }


def _inputs(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [{"name": name, "required": name in required} for name in schema.get("properties", {})]


def _outputs(schema: dict[str, Any]) -> str:
    """`status, url, body` for an object, `list of value, index` for a list of objects, else the JSON type."""
    is_list = schema.get("type") == "array"
    shape = schema.get("items", {}) if is_list else schema
    if "$ref" in shape:
        shape = schema.get("$defs", {}).get(shape["$ref"].rsplit("/", 1)[-1], {})
    fields = ", ".join(shape.get("properties", {})) or str(shape.get("type", "any"))
    return f"list of {fields}" if is_list else fields
