"""Admin template tags of the job engine: the spool panel on the admin index and the picture on a chain's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def chain_picture(chain: Any) -> SafeString:
    """The chain as SVG (nothing on the add page, where there is no chain yet)."""
    from apps.chains.picture import chain_picture_svg

    if chain is None or not getattr(chain, "pk", None):
        return mark_safe("")
    # Every text in the SVG is escaped where it is built (apps/chains/picture.py).
    return mark_safe(chain_picture_svg(chain=chain))


@register.inclusion_tag("admin/chains/spool_panel.html", takes_context=True)
def spool_panel(context: dict[str, Any]) -> dict[str, Any]:
    """Spool depth of this web process's spool directory, for people RBAC lets read `system/spool` (as the API)."""
    from apps.core.spool.publisher import publisher
    from apps.rbac.authorization import authorize, principal_for_user

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"visible": False}
    if not authorize(principal_for_user(user), "read", "system/spool").allowed:
        return {"visible": False}
    spool = publisher().spool
    depth = spool.depth()
    return {"visible": True, "depth": depth, "directory": str(spool.directory),
            "oldest": _age(depth.oldest_age_seconds)}


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
