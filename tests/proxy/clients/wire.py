"""Reading what the proxy and the CLIs print: SSE event payloads and JSON lines."""

from __future__ import annotations

import json
from typing import Any


def sse_payloads(text: str) -> list[dict[str, Any]]:
    """The JSON `data:` of each event in an SSE body, in order (keep-alive comments and `[DONE]` left out)."""
    payloads = []
    for frame in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(line[5:].lstrip() for line in frame.split("\n") if line.startswith("data:"))
        if data and data != "[DONE]":
            payloads.append(json.loads(data))
    return payloads


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
