"""Send an HTTP request; the result carries the status, headers and body (parsed when the response is JSON)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field

from apps.runners.sdk import PermanentError, RunContext, Sensitive, extension_settings, runner_function
from extensions.http.client import HttpResponse, Limits, Outgoing, check_status, exchange

TRIGGER_WORDS = ("request", "get", "post", "fetch", "download", "call")

Url = Annotated[str, Field(min_length=1, max_length=8192)]
Seconds = Annotated[float, Field(gt=0, le=3600)]
Bytes = Annotated[int, Field(gt=0)]
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Request headers carry credentials (Authorization, API keys, cookies): masked for readers without read_content.
Headers = Annotated[dict[str, str] | None, Sensitive]


@runner_function(idempotent=True, risk_tier="standard", trigger_words=("get", "fetch", "download"),
                 max_attempts=3, backoff_seconds=1.0)
def get(
    url: Url,
    ctx: RunContext,
    headers: Headers = None,
    params: dict[str, str] | None = None,
    timeout_seconds: Seconds | None = None,
    max_bytes: Bytes | None = None,
    follow_redirects: bool = True,
    fail_on_status: bool = False,
) -> HttpResponse:
    """GET a URL. Timeouts and connection errors are retried; non-public targets need a network policy.

    `timeout_seconds` and `max_bytes` may lower the `extensions.http.*` limits, never raise them. With
    `fail_on_status`, a 4xx answer fails the run and a 5xx (or 408, 429) is retried.
    """
    outgoing = Outgoing("GET", url, headers or {}, params or {}, None)
    return _request(ctx, outgoing, timeout_seconds, max_bytes, follow_redirects, fail_on_status)


@runner_function(idempotent=False, risk_tier="high", trigger_words=("post", "put", "patch", "delete", "send"))
def send(
    method: Method,
    url: Url,
    ctx: RunContext,
    headers: Headers = None,
    params: dict[str, str] | None = None,
    json_body: Any = None,
    body: str | None = None,
    idempotency_header: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,100}$")] | None = None,
    timeout_seconds: Seconds | None = None,
    max_bytes: Bytes | None = None,
    follow_redirects: bool = False,
    fail_on_status: bool = False,
) -> HttpResponse:
    """Send any method with a JSON (`json_body`) or text (`body`) body. Not retried: it may not be idempotent.

    `idempotency_header` names a header (such as `Idempotency-Key`) that carries the run's idempotency key,
    for servers that deduplicate on it.
    """
    if json_body is not None and body is not None:
        raise PermanentError("give json_body or body, not both")
    headers = dict(headers or {})
    content: bytes | None = None
    if json_body is not None:
        content = json.dumps(json_body).encode()
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    elif body is not None:
        content = body.encode()
    if idempotency_header:
        headers[idempotency_header] = ctx.idempotency_key
    outgoing = Outgoing(method, url, headers, params or {}, content)
    return _request(ctx, outgoing, timeout_seconds, max_bytes, follow_redirects, fail_on_status)


def _request(ctx: RunContext, outgoing: Outgoing, timeout_seconds: float | None, max_bytes: int | None,
             follow_redirects: bool, fail_on_status: bool) -> HttpResponse:
    configured = extension_settings("http")
    limits = Limits(
        timeout=min(timeout_seconds or float("inf"), configured["timeout_ms"] / 1000),
        max_bytes=min(max_bytes or configured["max_response_bytes"], configured["max_response_bytes"]),
        max_redirects=configured["max_redirects"],
    )
    answer = exchange(outgoing, limits=limits, authorize=ctx.authorize, follow_redirects=follow_redirects,
                      ca_file=configured["ca_file"])
    ctx.log(f"{outgoing.method} {answer['url']} -> {answer['status']}")
    if fail_on_status:
        check_status(answer)
    return answer
