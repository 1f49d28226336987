"""One HTTP exchange: each hop checked by the guard, connected to the checked address, body read within limits.

httpx is told the address, not the name: the request URL carries the checked IP, the `Host` header and
the TLS server name (`sni_hostname`, also what the certificate is verified against) carry the name. So
no second DNS lookup happens between the check and the connection. Each hop gets a fresh client: a
pooled connection verified for one name is never reused for another, and no cookies or environment
proxies (`trust_env=False`; a proxy would resolve the name itself) come along.
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx
from typing_extensions import TypedDict

from apps.runners.sdk import Authorizer, PermanentError
from extensions.http.guard import IPAddress, Resolver, Target, system_resolve, target_check

# Headers that carry credentials for one origin; not sent on to another after a redirect.
_CREDENTIALS = ("authorization", "cookie", "proxy-authorization")


class ResponseTooLarge(PermanentError):
    code = "response_too_large"


class TooManyRedirects(PermanentError):
    code = "too_many_redirects"


class HttpStatusError(PermanentError):
    code = "http_status"


@dataclass(frozen=True)
class Limits:
    timeout: float  # seconds for the whole exchange
    max_bytes: int
    max_redirects: int


@dataclass(frozen=True)
class Outgoing:
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, str]
    content: bytes | None


class HttpResponse(TypedDict):
    status: int
    url: str
    headers: dict[str, str]
    body: str
    json: Any  # the body parsed, when the response says it is JSON
    redirects: int


def check_status(answer: HttpResponse, *, refused_from: int = 400,
                 refused: type[PermanentError] = HttpStatusError) -> None:
    """Raise unless the answer is a success: 408, 429 and 5xx as an error the run retries, any other status
    from `refused_from` on as `refused`, which fails the run."""
    if answer["status"] in (408, 429) or answer["status"] >= 500:
        raise RuntimeError(f"{answer['url']} answered {answer['status']}")
    if answer["status"] >= refused_from:
        raise refused(f"{answer['url']} answered {answer['status']}")


def exchange(outgoing: Outgoing, *, limits: Limits, authorize: Authorizer, follow_redirects: bool = True,
             resolve: Resolver = system_resolve, ca_file: str | None = None) -> HttpResponse:
    """Send the request, following redirects (each target checked again) within one deadline.

    `authorize` is the run's `ctx.authorize`: the guard asks it before reaching a non-public address.
    TLS certificates are verified against the host name, with `ca_file`'s CAs or else certifi's.
    """
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else True
    deadline = time.monotonic() + limits.timeout
    url = httpx.URL(outgoing.url).copy_merge_params(outgoing.params)
    method, headers, content = outgoing.method.upper(), dict(outgoing.headers), outgoing.content
    for redirects in range(limits.max_redirects + 1):
        target = target_check(url, authorize=authorize, resolve=resolve)
        status, response_headers, body = _send(target, method, headers, content, limits, deadline, verify)
        location = response_headers.get("location")
        if not (follow_redirects and status in (301, 302, 303, 307, 308) and location):
            return _exchange(status, url, response_headers, body, redirects)
        next_url = url.join(location)
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, content = "GET", None  # what browsers (and httpx) do
            headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        if (next_url.scheme, next_url.host, next_url.port) != (url.scheme, url.host, url.port):
            headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}
        url = next_url
    raise TooManyRedirects(f"more than {limits.max_redirects} redirects")


def _send(target: Target, method: str, headers: dict[str, str], content: bytes | None, limits: Limits,
          deadline: float, verify: ssl.SSLContext | bool) -> tuple[int, dict[str, str], bytes]:
    """One hop, to the first of the target's checked addresses that accepts a connection (as a browser would
    try a name's addresses in turn; nothing has been sent when a connection fails)."""
    for position, address in enumerate(target.addresses):
        try:
            return _send_to(address, target, method, headers, content, limits, deadline, verify)
        except httpx.ConnectError:
            if position == len(target.addresses) - 1:
                raise
    raise AssertionError("a target always has an address")


def _send_to(address: IPAddress, target: Target, method: str, headers: dict[str, str], content: bytes | None,
             limits: Limits, deadline: float, verify: ssl.SSLContext | bool) -> tuple[int, dict[str, str], bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpx.TimeoutException(f"no answer within {limits.timeout:g} s")
    pinned = target.url.copy_with(host=address.compressed)
    host_header = target.url.netloc.decode()  # the name (and a non-default port), as the server expects it
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    with httpx.Client(trust_env=False, follow_redirects=False, timeout=remaining, verify=verify) as client:
        request = client.build_request(method, pinned, headers={**headers, "Host": host_header}, content=content,
                                       extensions=extensions)
        response = client.send(request, stream=True)
        try:
            return response.status_code, _headers(response), _body(response, limits, deadline)
        finally:
            response.close()


def _body(response: httpx.Response, limits: Limits, deadline: float) -> bytes:
    """The decoded body, refused as soon as it is known to exceed the limit (declared or counted)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes and "content-encoding" not in response.headers:
        raise ResponseTooLarge(f"the response declares {declared} bytes; the limit is {limits.max_bytes}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise ResponseTooLarge(f"the response is larger than {limits.max_bytes} bytes")
        if time.monotonic() > deadline:
            # httpx's timeouts bound each read; a server dripping bytes slowly is stopped here.
            raise httpx.ReadTimeout(f"the body did not arrive within {limits.timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _headers(response: httpx.Response) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _exchange(status: int, url: httpx.URL, headers: dict[str, str], body: bytes, redirects: int) -> HttpResponse:
    charset = _charset(headers.get("content-type", ""))
    text = body.decode(charset or "utf-8", errors="replace")
    parsed: Any = None
    if "json" in headers.get("content-type", "").lower():
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return {"status": status, "url": str(url), "headers": headers, "body": text, "json": parsed, "redirects": redirects}


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
            except LookupError:
                return None
            return value.strip('"')
    return None
