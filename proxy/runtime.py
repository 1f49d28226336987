"""The proxy's process-wide state, built once from the settings: lineup, providers, breakers, ledger sink.

Built lazily inside the serving event loop, because each provider's pooled httpx client belongs to the loop
that created it; a different loop (tests start several servers) gets a runtime of its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from django.conf import settings as django_settings

from proxy.admin_lineup import AdminLineup, settings_merge, watcher
from proxy.breakers import Breakers, breakers_build
from proxy.concurrency import Limiter, limiter_build
from proxy.config import ConfigError, ProxySettings, proxy_settings_build
from proxy.dialects.fields import Limits
from proxy.ledger import LedgerSink, LoggingSink
from proxy.providers import provider_build
from proxy.providers.base import Provider
from proxy.router.candidates import Lineup

# httpx logs every upstream request at INFO; on the proxy's hot path that is a log line per call.
logging.getLogger("httpx").setLevel(logging.WARNING)
log = logging.getLogger("legion.proxy.runtime")


@dataclass
class Runtime:
    settings: ProxySettings
    lineup: Lineup
    providers: dict[str, Provider]
    breakers: Breakers
    sink: LedgerSink
    limits: Limits
    loop: asyncio.AbstractEventLoop
    limiter: Limiter

    async def aclose(self) -> None:
        for provider in self.providers.values():
            await provider.aclose()
        await self.breakers.aclose()
        await self.limiter.aclose()
        await self.sink.aclose()


def lineup_build(settings: ProxySettings) -> Lineup:
    try:
        return Lineup(settings.providers, settings.aliases)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def runtime_build(settings: ProxySettings) -> Runtime:
    lineup = lineup_build(settings)
    providers = {
        spec.name: provider_build(spec, api_key=settings.credentials.get(spec.name), deadlines=settings.deadlines)
        for spec in settings.providers
    }
    return Runtime(
        settings=settings, lineup=lineup, providers=providers, breakers=breakers_build(settings.breaker),
        sink=LoggingSink(queue_size=settings.ledger_queue_size),
        limits=Limits(settings.max_body_bytes, settings.max_messages, settings.max_tools, settings.max_json_depth),
        loop=asyncio.get_running_loop(), limiter=limiter_build(settings.limits),
    )


def runtime_successor(old: Runtime, settings: ProxySettings) -> tuple[Runtime, list[Provider]]:
    """A runtime for a changed lineup that keeps `old`'s breakers, limiter and sink, and the provider clients
    whose spec and credential did not change; also the clients it dropped, to close once nothing uses them."""
    lineup = lineup_build(settings)
    providers: dict[str, Provider] = {}
    for spec in settings.providers:
        current = old.providers.get(spec.name)
        key = settings.credentials.get(spec.name)
        if current is not None and current.spec == spec and old.settings.credentials.get(spec.name) == key:
            providers[spec.name] = current
        else:
            providers[spec.name] = provider_build(spec, api_key=key, deadlines=settings.deadlines)
    dropped = [p for name, p in old.providers.items() if providers.get(name) is not p]
    return Runtime(settings=settings, lineup=lineup, providers=providers, breakers=old.breakers, sink=old.sink,
                   limits=old.limits, loop=old.loop, limiter=old.limiter), dropped


_settings: ProxySettings | None = None
_runtime: Runtime | None = None


def settings_current() -> ProxySettings:
    """The validated `proxy.*` settings; raises ConfigError when they are invalid."""
    global _settings
    if _settings is None:
        settings = proxy_settings_build(django_settings.CONFIG.values)
        lineup_build(settings)  # aliases naming no model fail here, at startup
        _settings = settings
        watcher.preload()
    return _settings


def runtime_current() -> Runtime | None:
    """This process's runtime if it has served a request (for reading its memory stores), else None."""
    return _runtime


def runtime_get() -> Runtime:
    """The runtime of the running loop, built on first use."""
    global _runtime
    loop = asyncio.get_running_loop()
    if _runtime is None or _runtime.loop is not loop:
        _runtime = runtime_build(settings_merge(settings_current(), watcher.admin))
    watcher.poke()
    return _runtime


def _lineup_changed(admin: AdminLineup) -> None:
    """Swap in a runtime with the new lineup, on the serving loop (the watcher's task runs there).

    Requests already running hold the old runtime and finish on it; the clients it alone used are closed once
    the longest such request must have ended (the total deadline).
    """
    global _runtime
    old = _runtime
    if old is None or _settings is None or old.loop is not asyncio.get_running_loop():
        return
    try:
        _runtime, dropped = runtime_successor(old, settings_merge(_settings, admin))
    except ConfigError as exc:
        log.warning("catalog change not applied: %s", exc)
        return
    if dropped:
        old.loop.call_later(old.settings.deadlines.total + 1, _close_later, dropped)
    log.info("catalog reloaded: %d providers", len(_runtime.providers))


def _close_later(providers: list[Provider]) -> None:
    for provider in providers:
        asyncio.get_running_loop().create_task(provider.aclose())


watcher.on_change = _lineup_changed


def runtime_configure(settings: ProxySettings | None) -> None:
    """Replace the settings (None: read them again); the next request builds a fresh runtime from them.

    The old runtime's clients are closed on the loop that owns them, when that loop is still running.
    """
    global _settings, _runtime
    old, _settings, _runtime = _runtime, settings, None
    if settings is not None:
        watcher.preload()
    if old is None or not old.loop.is_running():
        return
    try:
        current = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    if current is old.loop:
        old.loop.create_task(old.aclose())
    else:
        asyncio.run_coroutine_threadsafe(old.aclose(), old.loop).result(timeout=10)
