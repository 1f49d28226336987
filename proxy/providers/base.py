"""The provider protocol and the httpx plumbing every adapter shares: one pooled client, one error boundary."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import email.utils
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from proxy.config import Deadlines, ModelSpec, ProviderSpec
from proxy.errors import ErrorKind, ProxyError
from proxy.providers.transport import transport_for
from proxy.redaction import addresses_redact
from proxy.streaming.closing import iterator_close
from proxy.types import ChatRequest, ChatResponse, EmbedRequest, EmbedResponse, ProviderEvent, StreamEnd

# After a whole answer, how long to wait for the rest of its body (HTTP's closing chunk, normally already here).
REST_SECONDS = 0.1


class Provider(Protocol):
    """One provider instance. Every method raises only ProxyError; adapters translate everything else."""

    spec: ProviderSpec

    async def complete(self, request: ChatRequest, model: ModelSpec) -> ChatResponse: ...

    def stream(self, request: ChatRequest, model: ModelSpec) -> AsyncIterator[ProviderEvent]: ...

    async def embed(self, request: EmbedRequest, model: ModelSpec) -> EmbedResponse: ...

    async def count_tokens(self, request: ChatRequest, model: ModelSpec) -> int | None: ...

    async def aclose(self) -> None: ...


class HttpProvider(abc.ABC):
    """Holds the instance's pooled AsyncClient and maps transport failures and error statuses to ProxyError."""

    stream_path = ""  # where streamed chat requests are POSTed

    def __init__(self, spec: ProviderSpec, *, api_key: str | None, deadlines: Deadlines) -> None:
        self.spec = spec
        self.api_key = api_key
        # Event-level deadlines (first token, idle gap) are enforced above the adapter; the read timeout here is
        # only a backstop so a half-dead socket cannot outlive them.
        timeout = httpx.Timeout(connect=deadlines.connect, read=max(deadlines.first_token, deadlines.idle),
                                write=deadlines.connect, pool=deadlines.connect)
        self.client = httpx.AsyncClient(
            base_url=spec.base_url, headers={**self.auth_headers(), **spec.headers}, timeout=timeout,
            limits=httpx.Limits(max_connections=spec.concurrency, max_keepalive_connections=spec.concurrency),
            transport=transport_for(spec.base_url, max_connections=spec.concurrency),
        )

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def request_headers(self, request: ChatRequest) -> dict[str, str]:
        """Headers one request adds to the instance's own (Anthropic's betas, for one)."""
        return {}

    async def aclose(self) -> None:
        await self.client.aclose()

    @abc.abstractmethod
    async def complete(self, request: ChatRequest, model: ModelSpec) -> ChatResponse: ...

    @abc.abstractmethod
    def render(self, request: ChatRequest, model: ModelSpec, *, stream: bool) -> dict[str, Any]: ...

    @abc.abstractmethod
    def stream_parse(self, body: AsyncIterator[bytes]) -> AsyncIterator[ProviderEvent]:
        """The provider's streamed body as canonical events, ending with StreamEnd when the answer is whole."""

    async def count_tokens(self, request: ChatRequest, model: ModelSpec) -> int | None:
        return None  # the caller falls back to the estimator

    async def embed(self, request: EmbedRequest, model: ModelSpec) -> EmbedResponse:
        raise ProxyError(ErrorKind.INVALID_REQUEST, f"provider '{self.spec.name}' does not serve embeddings")

    def error_from(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProxyError:
        """The adapter's reading of an error response; adapters override `classify` for their body shapes."""
        message, code = self.error_detail(body)
        kind = self.classify(status, message, code)
        retry_after = retry_after_seconds(headers) if kind in (ErrorKind.RATE_LIMITED, ErrorKind.OVERLOADED) else None
        return ProxyError(kind, f"{self.spec.name}: {message or f'HTTP {status}'}", retry_after=retry_after,
                          provider=self.spec.name)

    def error_detail(self, body: bytes) -> tuple[str, str]:
        """(message, code) from an error body; generic enough for OpenAI-like and Anthropic-like bodies."""
        try:
            data = json.loads(body)
        except ValueError:
            return body.decode("utf-8", errors="replace")[:500], ""
        error = data.get("error", data) if isinstance(data, dict) else {}
        if isinstance(error, str):
            return error, ""
        if not isinstance(error, dict):
            return str(error)[:500], ""
        code = error.get("code") or error.get("type") or ""
        return str(error.get("message") or ""), str(code)

    def classify(self, status: int, message: str, code: str) -> ErrorKind:
        text = f"{code} {message}".lower().replace("_", " ")
        if status in (401, 403):
            return ErrorKind.PROVIDER_AUTH
        if status == 404:
            return ErrorKind.MODEL_MISSING
        if status == 408:
            return ErrorKind.TIMEOUT
        if status == 429:
            return ErrorKind.RATE_LIMITED
        if status in (503, 529) or "overloaded" in text:
            return ErrorKind.OVERLOADED
        if status >= 500:
            return ErrorKind.SERVER
        if any(sign in text for sign in ("context length", "context size", "too long")):
            return ErrorKind.CONTEXT_LENGTH
        if any(sign in text for sign in ("content policy", "content filter", "safety")):
            return ErrorKind.CONTENT_POLICY
        return ErrorKind.INVALID_REQUEST

    @contextmanager
    def boundary(self) -> Iterator[None]:
        """Translate httpx and decoding failures into the taxonomy, once, for everything inside; and keep the
        provider's address (its base_url host included) out of the client's message of every error leaving it."""
        name, upstream = self.spec.name, self.spec.base_url
        try:
            yield
        except ProxyError as error:
            # An adapter's own reading of the provider's words (an in-band stream error) may name its host bare.
            error.message = addresses_redact(error.message, name=name, base_url=upstream)
            raise
        except httpx.TimeoutException as exc:
            raise ProxyError(ErrorKind.TIMEOUT, f"{name}: {type(exc).__name__}", provider=name) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise ProxyError(ErrorKind.STREAM_BROKEN, f"{name}: connection lost: {exc}", provider=name,
                             upstream=upstream) from exc
        except httpx.HTTPError as exc:
            raise ProxyError(ErrorKind.CONNECT, f"{name}: {type(exc).__name__}: {exc}", provider=name,
                             upstream=upstream) from exc
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            # The provider answered with something that is not its documented shape.
            raise ProxyError(ErrorKind.STREAM_BROKEN, f"{name}: malformed response: {exc!r}", provider=name,
                             upstream=upstream) from exc

    async def post_json(self, path: str, payload: dict[str, Any], headers: Mapping[str, str] | None = None) -> Any:
        with self.boundary():
            response = await self.client.post(path, json=payload, headers=headers)
            if response.status_code >= 400:
                raise self.error_from(response.status_code, response.content, response.headers)
            return response.json()

    async def post_stream(self, path: str, payload: dict[str, Any],
                          headers: Mapping[str, str] | None = None) -> AsyncGenerator[bytes, None]:
        """The raw body of a streamed POST; error statuses raise before the first byte is yielded."""
        with self.boundary():
            async with self.client.stream("POST", path, json=payload, headers=headers) as response:
                if response.status_code >= 400:
                    raise self.error_from(response.status_code, await response.aread(), response.headers)
                async for chunk in response.aiter_raw():
                    yield chunk

    async def stream(self, request: ChatRequest, model: ModelSpec) -> AsyncGenerator[ProviderEvent, None]:
        """The streamed answer as canonical events; owns the response body and its parser and closes both.

        After a whole answer the rest of the body is read before the response closes, so the connection goes
        back to the pool: otherwise every stream would tear its connection down and the next would dial again.
        """
        body = self.post_stream(self.stream_path, self.render(request, model, stream=True),
                                self.request_headers(request))
        events = self.stream_parse(body)
        whole = False
        try:
            with self.boundary():
                async for event in events:
                    whole = whole or isinstance(event, StreamEnd)
                    yield event
        finally:
            await iterator_close(events)
            if whole:
                with contextlib.suppress(ProxyError, TimeoutError):
                    async with asyncio.timeout(REST_SECONDS):
                        async for _ in body:
                            pass
            await body.aclose()


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Retry-After as seconds from now: `retry-after-ms`, delta seconds, or an HTTP date."""
    if "retry-after-ms" in headers:
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def json_loads(data: str | bytes, provider: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ProxyError(ErrorKind.STREAM_BROKEN, f"{provider}: undecodable stream event: {exc}",
                         provider=provider) from None
