"""The proxy's process-wide state, built once from the settings: catalog, providers, breakers, ledger sink.

Built lazily inside the serving event loop, because each provider's pooled httpx client belongs to the loop
that created it; a different loop (tests start several servers) gets a runtime of its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from django.conf import settings as django_settings

from proxy.config import ConfigError, ProxySettings, proxy_settings_build
from proxy.dialects.fields import Limits
from proxy.health import Breakers, breakers_build
from proxy.ledger import LedgerSink, LoggingSink
from proxy.providers import provider_build
from proxy.providers.base import Provider
from proxy.router.candidates import Catalog

# httpx logs every upstream request at INFO; on the proxy's hot path that is a log line per call.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Runtime:
    settings: ProxySettings
    catalog: Catalog
    providers: dict[str, Provider]
    breakers: Breakers
    sink: LedgerSink
    limits: Limits
    loop: asyncio.AbstractEventLoop

    async def aclose(self) -> None:
        for provider in self.providers.values():
            await provider.aclose()
        await self.breakers.aclose()
        await self.sink.aclose()


def catalog_build(settings: ProxySettings) -> Catalog:
    try:
        return Catalog(settings.providers, settings.aliases)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def runtime_build(settings: ProxySettings) -> Runtime:
    catalog = catalog_build(settings)
    providers = {
        spec.name: provider_build(spec, api_key=settings.credentials.get(spec.name), deadlines=settings.deadlines)
        for spec in settings.providers
    }
    return Runtime(
        settings=settings, catalog=catalog, providers=providers, breakers=breakers_build(settings.breaker),
        sink=LoggingSink(queue_size=settings.ledger_queue_size),
        limits=Limits(settings.max_body_bytes, settings.max_messages, settings.max_tools),
        loop=asyncio.get_running_loop(),
    )


_settings: ProxySettings | None = None
_runtime: Runtime | None = None


def settings_current() -> ProxySettings:
    """The validated `proxy.*` settings; raises ConfigError when they are invalid."""
    global _settings
    if _settings is None:
        settings = proxy_settings_build(django_settings.CONFIG.values)
        catalog_build(settings)  # aliases naming no model fail here, at startup
        _settings = settings
    return _settings


def runtime_get() -> Runtime:
    """The runtime of the running loop, built on first use."""
    global _runtime
    loop = asyncio.get_running_loop()
    if _runtime is None or _runtime.loop is not loop:
        _runtime = runtime_build(settings_current())
    return _runtime


def runtime_configure(settings: ProxySettings | None) -> None:
    """Replace the settings (None: read them again); the next request builds a fresh runtime from them.

    The old runtime's clients are closed on the loop that owns them, when that loop is still running.
    """
    global _settings, _runtime
    old, _settings, _runtime = _runtime, settings, None
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
