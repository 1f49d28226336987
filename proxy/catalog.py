"""The models the proxy can serve, as clients see them in `/v1/models`."""

from __future__ import annotations

from typing import Any


def models_list() -> list[dict[str, Any]]:
    """Every routable model; empty until providers are declared (see docs/proxy.md)."""
    return []
