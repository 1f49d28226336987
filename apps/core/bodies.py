"""Request bodies bounded as they arrive: the declared Content-Length first, then a running count of chunks.

Shared by the proxy's consumers and the web's ASGI middleware, so an oversized body is refused before it is
buffered anywhere, whichever process receives it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from itertools import accumulate
from typing import Any


class BodyTooLarge(Exception):
    """A request body over `limit` bytes; `size` is the declared length when the client stated one."""

    def __init__(self, *, limit: int, size: int | None = None) -> None:
        self.limit = limit
        self.size = size
        stated = f"of {size} bytes " if size is not None else ""
        super().__init__(f"request body {stated}exceeds the limit of {limit} bytes")


def declares_body(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a request says it carries a body: a non-zero Content-Length, or a Transfer-Encoding."""
    return any((name.lower() == b"content-length" and value.strip() not in (b"", b"0"))
               or name.lower() == b"transfer-encoding" for name, value in headers)


class BodyCounter:
    """Checks one request's body against `limit`: its headers once, then every chunk as it is received."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.received = 0

    def headers_check(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        """BodyTooLarge when Content-Length already says too much. A malformed value never gets here: the
        HTTP server answers it with a 400 itself."""
        for name, value in headers:
            if name.lower() == b"content-length" and value.strip().isdigit() and int(value) > self.limit:
                raise BodyTooLarge(limit=self.limit, size=int(value))

    def chunk(self, message: Mapping[str, Any]) -> bytes:
        """The chunk of an `http.request` message, or BodyTooLarge once the running total passes the limit
        (a chunked body declares nothing, and a declared length may understate)."""
        body: bytes = message.get("body", b"")
        self.received += len(body)
        if self.received > self.limit:
            raise BodyTooLarge(limit=self.limit)
        return body


_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_RUN = re.compile(rb"\[+|\]+")


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether the arrays and objects of the JSON text `raw` nest more than `limit` levels deep.

    Checked on the bytes before decoding: Python's json recurses once per level (a RecursionError near 1000,
    a 500 with a long traceback), and so does everything that walks the value afterwards (JSON Schema checks,
    serializers). Every step is a C-speed bytes operation except the last, which counts runs of brackets (not
    bytes) once peeling levels stops paying; text too broken to pair up is left to the decoder to report.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    # Escapes pair up left to right, so dropping `\\` first leaves `\"` meaning a quote inside a string; then
    # every other `"` opens or closes one, and string contents are the odd pieces between them.
    unescaped = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(_BRACKETS, _NOT_STRUCTURE)
    brackets = b"".join(unescaped.split(b'"')[::2])
    peeled = 0
    while brackets:  # a pass drops the innermost level everywhere; worth it while that is much of what is left
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return False
        brackets, before, peeled = shorter, len(brackets), peeled + 1
        if len(brackets) * 4 > before * 3:
            break
    steps = (len(run) if run[0] == 0x5B else -len(run) for run in _RUN.findall(brackets))
    return peeled + max(accumulate(steps), default=0) > limit
