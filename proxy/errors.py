"""The proxy's one exception type and its small taxonomy of error kinds, with what each means for retrying."""

from __future__ import annotations

import enum

from proxy.redaction import addresses_redact


class ErrorKind(enum.StrEnum):
    # Raised by the proxy about the client's request.
    INVALID_REQUEST = "invalid_request"
    REQUEST_TOO_LARGE = "request_too_large"
    UNKNOWN_MODEL = "unknown_model"
    NO_CANDIDATE = "no_candidate"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    # Raised by provider adapters about an attempt; see RETRYABLE.
    TIMEOUT = "timeout"
    CONNECT = "connect"
    SERVER = "server"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    STREAM_BROKEN = "stream_broken"
    PROVIDER_AUTH = "provider_auth"
    MODEL_MISSING = "model_missing"
    CONTEXT_LENGTH = "context_length"
    CONTENT_POLICY = "content_policy"
    # Raised when the attempt loop gives up, or something unexpected happened inside the proxy.
    EXHAUSTED = "exhausted"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


# The next candidate may succeed where this one failed. Upstream credential or model-missing errors are
# the deployment's problem, not the client's, so another provider is tried rather than failing the call.
RETRYABLE = frozenset({
    ErrorKind.TIMEOUT, ErrorKind.CONNECT, ErrorKind.SERVER, ErrorKind.RATE_LIMITED, ErrorKind.OVERLOADED,
    ErrorKind.STREAM_BROKEN, ErrorKind.PROVIDER_AUTH, ErrorKind.MODEL_MISSING, ErrorKind.CONTEXT_LENGTH,
})

# The same candidate may succeed on a second try: a fault of the moment. Context overflow, rejected credentials
# and a missing model will be the same a second later.
TRANSIENT = RETRYABLE - {ErrorKind.CONTEXT_LENGTH, ErrorKind.PROVIDER_AUTH, ErrorKind.MODEL_MISSING}

# Failures that say something about the provider's health; the request's own faults never trip a breaker,
# and context overflow is about the prompt's size, not the provider.
BREAKER_FAILURES = RETRYABLE - {ErrorKind.CONTEXT_LENGTH, ErrorKind.MODEL_MISSING}

STATUS = {
    ErrorKind.INVALID_REQUEST: 400, ErrorKind.REQUEST_TOO_LARGE: 413, ErrorKind.UNKNOWN_MODEL: 400,
    ErrorKind.NO_CANDIDATE: 400, ErrorKind.UNAUTHORIZED: 401, ErrorKind.FORBIDDEN: 403, ErrorKind.NOT_FOUND: 404,
    ErrorKind.TIMEOUT: 504, ErrorKind.CONNECT: 502, ErrorKind.SERVER: 502, ErrorKind.RATE_LIMITED: 429,
    ErrorKind.OVERLOADED: 503, ErrorKind.STREAM_BROKEN: 502, ErrorKind.PROVIDER_AUTH: 502,
    ErrorKind.MODEL_MISSING: 502, ErrorKind.CONTEXT_LENGTH: 400, ErrorKind.CONTENT_POLICY: 400,
    ErrorKind.EXHAUSTED: 503, ErrorKind.UNAVAILABLE: 503, ErrorKind.INTERNAL: 500,
}


class ProxyError(Exception):
    """Any failure the proxy reports: the dialects render it in the client's own error shape.

    `message` is what the client is shown: upstream addresses are redacted from it here, once, for every error
    (replaced by the provider's name; `upstream` is its base URL, whose host may appear bare). `detail` keeps the
    full text for the log and the ledger; it defaults to the unredacted message. `param` names the offending
    field of the client's request, `retry_after` (seconds) comes from a provider's Retry-After, `provider` names
    the provider instance an attempt failed on.
    """

    def __init__(
        self, kind: ErrorKind, message: str, *, param: str | None = None, retry_after: float | None = None,
        provider: str | None = None, status: int | None = None, detail: str | None = None,
        upstream: str | None = None,
    ) -> None:
        self.detail = detail or message
        super().__init__(self.detail)
        self.kind = kind
        self.message = addresses_redact(message, name=provider, base_url=upstream)
        self.param = param
        self.retry_after = retry_after
        self.provider = provider
        self.status = status or STATUS[kind]

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def __repr__(self) -> str:
        return f"ProxyError({self.kind.value}, {self.detail!r})"


def invalid(message: str, param: str | None = None) -> ProxyError:
    return ProxyError(ErrorKind.INVALID_REQUEST, message, param=param)
