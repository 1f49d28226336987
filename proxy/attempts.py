"""The attempt loop's bookkeeping: which lane next, breakers, escalation rules, and the per-request ledger event."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

from proxy.callers import Caller
from proxy.errors import BREAKER_FAILURES, TRANSIENT, ErrorKind, ProxyError
from proxy.ledger import AttemptRecord, RequestEvent
from proxy.router.candidates import Lane, Pins
from proxy.runtime import Runtime
from proxy.types import ChatRequest, RouteInfo, Usage

SKIPPED_OPEN = "skipped_open"
SKIPPED_BUSY = "skipped_busy"
BUSY_POLL_SECONDS = 0.02
# Timers may fire a clock tick early; a retry after a Retry-After must find the breaker's hold over.
RETRY_SLACK_SECONDS = 0.01
# Errors that say nothing about other candidates: all of them failing the same way is reported as that error.
_SHARED_KINDS = (ErrorKind.RATE_LIMITED, ErrorKind.CONTEXT_LENGTH, ErrorKind.TIMEOUT)


@dataclass
class RequestContext:
    """One proxied request: who asked, what they pinned, the total deadline, and its ledger event."""

    runtime: Runtime
    caller: Caller
    pins: Pins
    event: RequestEvent
    deadline: float = 0.0
    outcome: str | None = None
    finished: bool = False
    leases: dict[str, str] = field(default_factory=dict)  # provider -> concurrency lease held by an attempt

    @classmethod
    def start(cls, runtime: Runtime, *, caller: Caller, pins: Pins, endpoint: str, dialect: str) -> RequestContext:
        event = RequestEvent(request_id=uuid.uuid4().hex, endpoint=endpoint, dialect=dialect, requested_model="",
                             stream=False, caller_key_id=caller.key_id, started_at=time.time())
        return cls(runtime, caller, pins, event, deadline=time.monotonic() + runtime.settings.deadlines.total)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def finish(self) -> None:
        """Hand the ledger event to the sink, once; an unset outcome means the client went away."""
        if self.finished:
            return
        self.finished = True
        self.release()
        self.event.outcome = self.outcome or "client_disconnect"
        self.event.duration_ms = (time.time() - self.event.started_at) * 1000
        self.runtime.sink.emit(self.event)

    def release(self, provider: str | None = None) -> None:
        """Give back the concurrency lease of `provider` (every lease when None): the attempt ended."""
        for name in [provider] if provider is not None else list(self.leases):
            lease = self.leases.pop(name, None)
            if lease is not None:
                self.runtime.limiter.release(name, lease)


@dataclass
class Escalation:
    """Walks the ordered lanes: skips open breakers (no network), caps attempts, respects the total deadline,
    and after a context overflow skips every lane whose window is no larger.

    A provider at its concurrency limit is skipped like an open breaker; when no other lane is left, the
    request waits for a slot on the skipped ones (cheapest first) for at most the connect deadline.
    When still no lane is left, the lane that failed last is tried again after a backoff if its failure was
    transient (see `_retry`), or else a lane skipped while a provider's Retry-After held its breaker is tried
    once the hold is over (see `_wait_for_hold`).
    """

    ctx: RequestContext
    lanes: list[Lane]
    request: ChatRequest | None = None  # what the route reports on (clamped max_tokens, dropped fields)
    position: int = 0
    tried: list[Lane] = field(default_factory=list)
    errors: list[ProxyError] = field(default_factory=list)
    overflowed_window: int = 0
    busy: list[Lane] = field(default_factory=list)
    last_failure: tuple[Lane, ProxyError] | None = None
    retries: int = 0
    skipped_open: list[Lane] = field(default_factory=list)
    hold_left: float = 0.0  # a Retry-After hold too long to wait for: what the client is told

    async def next(self) -> Lane | None:
        settings = self.ctx.runtime.settings
        self.ctx.release()  # a previous attempt that ended without reporting (it should not) keeps no slot
        while self.position < len(self.lanes):
            if len(self.tried) >= settings.max_attempts or self.ctx.remaining() <= 0:
                return None
            lane = self.lanes[self.position]
            self.position += 1
            if lane.model.context_window <= self.overflowed_window:
                continue
            if not await self.ctx.runtime.breakers.allow(lane.provider.name):
                self.skipped_open.append(lane)
                self._record(lane, SKIPPED_OPEN)
                continue
            if not await self._lease(lane):
                self.busy.append(lane)
                self._record(lane, SKIPPED_BUSY)
                continue
            self.tried.append(lane)
            return lane
        return await self._wait_for_slot() or await self._retry() or await self._wait_for_hold()

    async def _lease(self, lane: Lane) -> bool:
        name = lane.provider.name
        lease = await self.ctx.runtime.limiter.acquire(name, lane.provider.concurrency)
        if lease is not None:
            self.ctx.leases[name] = lease
        return lease is not None

    async def _wait_for_slot(self) -> Lane | None:
        """The first busy lane that frees a slot within the connect deadline (polled: the store may be Redis)."""
        busy, self.busy = self.busy, []
        if not busy or len(self.tried) >= self.ctx.runtime.settings.max_attempts:
            return None
        until = time.monotonic() + min(self.ctx.runtime.settings.deadlines.connect, self.ctx.remaining())
        while time.monotonic() < until:
            for lane in busy:
                if lane.model.context_window > self.overflowed_window and await self._lease(lane):
                    self.tried.append(lane)
                    return lane
            await asyncio.sleep(BUSY_POLL_SECONDS)
        return None

    async def _retry(self) -> Lane | None:
        """The lane that failed last, once more, when its failure was transient and attempts and time are left.

        The wait is the provider's Retry-After when it gave one (its breaker is held that long, so the retry
        comes right after the hold), else the jittered backoff. A wait that would leave less than the connect
        deadline before the request's deadline is not waited: the request fails now with the provider's error
        (a 429 keeps its Retry-After for the client). The breaker and the concurrency lease are checked after
        the wait like for any attempt: a breaker that opened meanwhile ends the request.
        """
        settings = self.ctx.runtime.settings
        if self.last_failure is None or len(self.tried) >= settings.max_attempts:
            return None
        lane, error = self.last_failure
        if error.kind not in TRANSIENT:
            return None
        wait = error.retry_after if error.retry_after is not None else settings.backoff.delay(self.retries)
        if not self._fits(wait):
            return None
        self.retries += 1
        return await self._after(wait, lane)

    async def _wait_for_hold(self) -> Lane | None:
        """The first lane skipped because a provider's Retry-After holds its breaker, once the hold is over.

        Other requests wait for the hold as the one that met the 429 does, rather than fail while the provider
        is about to take requests again; a jitter on top spreads them so they do not all come back at once.
        A hold that does not fit the deadline is what the client is told to wait (see `exhausted`).
        """
        skipped, self.skipped_open = self.skipped_open, []
        if self.last_failure is not None or len(self.tried) >= self.ctx.runtime.settings.max_attempts:
            return None  # a failed attempt is reported as such; its lane was retried if it could be
        for lane in skipped:
            hold = await self.ctx.runtime.breakers.held(lane.provider.name)
            if not hold:
                continue
            if not self._fits(hold):
                self.hold_left = min(self.hold_left or hold, hold)
                continue
            return await self._after(hold + self.ctx.runtime.settings.backoff.delay(0), lane)
        return None

    def _fits(self, wait: float) -> bool:
        """Whether waiting `wait` seconds still leaves an attempt the connect deadline before the request's."""
        return wait + self.ctx.runtime.settings.deadlines.connect <= self.ctx.remaining()

    async def _after(self, wait: float, lane: Lane) -> Lane | None:
        """`lane` after `wait` seconds, if its breaker allows it then and a concurrency slot comes."""
        await asyncio.sleep(wait + RETRY_SLACK_SECONDS)
        if not await self.ctx.runtime.breakers.allow(lane.provider.name):
            self._record(lane, SKIPPED_OPEN)
            return None
        if await self._lease(lane):
            self.tried.append(lane)
            return lane
        self._record(lane, SKIPPED_BUSY)
        self.busy.append(lane)
        return await self._wait_for_slot()

    async def succeeded(self, lane: Lane, usage: Usage, started: float, first: float | None = None) -> None:
        self.ctx.release(lane.provider.name)
        self._record(lane, "ok", started=started, first=first, usage=usage)
        await self.ctx.runtime.breakers.success(lane.provider.name)

    async def failed(self, lane: Lane, error: ProxyError, started: float, first: float | None = None,
                     usage: Usage | None = None) -> None:
        self.ctx.release(lane.provider.name)
        self.errors.append(error)
        self.last_failure = lane, error
        self._record(lane, error.kind.value, started=started, first=first, usage=usage, error=error.detail)
        if error.kind is ErrorKind.CONTEXT_LENGTH:
            self.overflowed_window = max(self.overflowed_window, lane.model.context_window)
        if error.kind in BREAKER_FAILURES:
            hold = None
            if error.retry_after and error.kind in (ErrorKind.RATE_LIMITED, ErrorKind.OVERLOADED):
                hold = min(error.retry_after, self.ctx.runtime.settings.retry_after_max_seconds)
            await self.ctx.runtime.breakers.failure(lane.provider.name, hold=hold)

    def route(self, lane: Lane, *, served_by: tuple[str, ...] = (), continued: bool = False) -> RouteInfo:
        request, limit = self.request, lane.model.max_output
        clamped = limit if request is not None and request.max_tokens and request.max_tokens > limit else None
        native = request.native.dropped_by(lane.provider.family) if request and request.native else ()
        dropped = (request.dropped if request else ()) + native
        return RouteInfo(provider=lane.provider.name, model=lane.model.id, tier=lane.tier, attempts=len(self.tried),
                         failovers=len(self.tried) - 1, served_by=served_by or (lane.key,), continued=continued,
                         max_tokens=clamped, dropped=dropped)

    def exhausted(self) -> ProxyError:
        """The error to report when no lane is left: the shared cause when there is one, else a 503 listing all."""
        if not self.errors:
            busy = [a.provider for a in self.ctx.event.attempts if a.outcome == SKIPPED_BUSY]
            skipped = [a.provider for a in self.ctx.event.attempts if a.outcome == SKIPPED_OPEN]
            if busy and not skipped:
                return ProxyError(ErrorKind.OVERLOADED, f"every candidate is at its concurrency limit "
                                  f"({', '.join(dict.fromkeys(busy))})", retry_after=1.0)
            if skipped:
                cooldown = self.ctx.runtime.settings.breaker.cooldown_seconds
                return ProxyError(ErrorKind.UNAVAILABLE, f"every candidate is unavailable (circuit open: "
                                  f"{', '.join(skipped)})", retry_after=self.hold_left or cooldown)
            return ProxyError(ErrorKind.TIMEOUT, "the request deadline passed before any attempt")
        kinds = {error.kind for error in self.errors}
        last = self.errors[-1]
        if len(kinds) == 1 and last.kind in _SHARED_KINDS:
            retry = min((e.retry_after for e in self.errors if e.retry_after is not None), default=None)
            return ProxyError(last.kind, last.message, retry_after=retry, provider=last.provider, detail=last.detail)
        heading = f"all {len(self.errors)} attempts failed: "
        return ProxyError(ErrorKind.EXHAUSTED, heading + "; ".join(f"{e.kind.value}: {e.message}" for e in self.errors),
                          detail=heading + "; ".join(f"{e.kind.value}: {e.detail}" for e in self.errors))

    def _record(self, lane: Lane, outcome: str, *, started: float | None = None, first: float | None = None,
                usage: Usage | None = None, error: str = "") -> None:
        now = time.monotonic()
        self.ctx.event.attempts.append(AttemptRecord(
            provider=lane.provider.name, model=lane.model.id, tier=lane.tier, outcome=outcome,
            latency_ms=(now - started) * 1000 if started is not None else 0.0,
            ttft_ms=(first - started) * 1000 if first is not None and started is not None else None,
            usage=usage, error=error,
        ))
