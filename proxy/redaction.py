"""Client-safe error text: upstream addresses replaced by the provider instance's name.

Where a provider lives (its URL, host, port, IP) is the deployment's business; it belongs in the log and the
ledger, never in an answer to a client. Every ProxyError passes its message through `addresses_redact` once, at
construction (proxy/errors.py), so no code path can forget it.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

UNNAMED = "upstream"  # stands in for an address when no provider instance is known

# scheme://anything up to whitespace or a quote; trailing sentence punctuation stays outside.
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>`]*[^\s'\"<>`.,;:!?)\]}]", re.IGNORECASE)
# Python's socket address tuples, as OSError and asyncio print them: ('127.0.0.1', 8080) or ('::1', 8080, 0, 0).
_SOCKET_TUPLE = re.compile(r"\(\s*'[^']*'\s*(?:,\s*\d+\s*)+\)")
# host:port where host looks like a network name (localhost, an IP, or a dotted name ending in letters), so that
# model ids such as `llama3.1:8b` or `qwen2.5:7` are left alone.
_HOST_PORT = re.compile(
    r"(?<![\w.-])(?:localhost|\[[0-9a-f:.]+\]|(?:\d{1,3}\.){3}\d{1,3}|(?:[a-z0-9-]+\.)+[a-z][a-z-]*[a-z])"
    r":\d{1,5}(?!\w)", re.IGNORECASE)
# Candidates only: each is kept unless the ipaddress module accepts it, so times (12:30:45), C++ scopes and
# version-like text survive.
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:.])[0-9a-f]*:[0-9a-f]*:[0-9a-f:.]*(?![\w:])", re.IGNORECASE)


def addresses_redact(text: str, *, name: str | None = None, base_url: str | None = None) -> str:
    """`text` with URLs, host:port pairs, socket tuples, IPv4/IPv6 literals and the host of `base_url` (the
    provider's own address, which may appear bare in its error bodies) replaced by `name`."""
    if not text:
        return text
    label = name or UNNAMED
    text = _URL.sub(label, text)
    host = urlsplit(base_url).hostname if base_url else None
    if host:
        text = re.sub(rf"(?<![\w.-]){re.escape(host)}(?::\d{{1,5}})?(?![\w-])", label, text, flags=re.IGNORECASE)
    text = _SOCKET_TUPLE.sub(label, text)
    text = _HOST_PORT.sub(label, text)
    text = _IPV4.sub(lambda match: _address_or(match.group(), label), text)
    return _IPV6.sub(lambda match: _address_or(match.group(), label), text)


def _address_or(candidate: str, label: str) -> str:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return candidate
    return label
