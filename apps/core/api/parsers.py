"""The REST API's JSON parser: DRF's, with nesting bounded before the decoder recurses into it."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from apps.core.bodies import json_too_deep


class JSONParser(parsers.JSONParser):
    """A body nested deeper than `api.max_json_depth` is a 400 naming the limit, not a RecursionError (a 500)
    in the decoder or in whatever walks the value next. Its size is already bounded (legion_site/body_limit.py)."""

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        limit = settings.CONFIG["api.max_json_depth"]
        if json_too_deep(raw, limit):
            raise ParseError(f"JSON body nests deeper than {limit} levels (api.max_json_depth)", code="json_too_deep")
        return super().parse(io.BytesIO(raw), media_type, parser_context)
