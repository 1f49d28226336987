"""Size limits of what a run carries: payloads and results are JSON of at most `chains.max_payload_bytes`."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from apps.core.errors import ApplicationError


def check_json_size(*, value: Any, what: str) -> None:
    """Raise `payload_too_large` (413) or `not_json` (400) before anything is stored or published."""
    limit = settings.CONFIG["chains.max_payload_bytes"]
    try:
        size = len(json.dumps(value, separators=(",", ":")).encode())
    except (TypeError, ValueError) as exc:
        raise ApplicationError("not_json", f"{what} is not JSON: {exc}", field=what) from exc
    if size > limit:
        raise ApplicationError(
            "payload_too_large", f"{what} is {size} bytes; the limit (chains.max_payload_bytes) is {limit}",
            field=what, status=413,
        )
