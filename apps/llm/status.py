"""The providers' live state for the admin and the REST API, read from the stores the proxies themselves use.

Breakers and concurrency leases are in Redis in full mode, so any process sees what every proxy sees. With the
memory stores (lite mode) the state is the one of the proxy serving in this process, if it has served yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings as django_settings

from apps.llm.selectors import provider_entries
from proxy.breakers import Breakers, breakers_build
from proxy.concurrency import Limiter, limiter_build
from proxy.config import ConfigError, providers_list, proxy_settings_build
from proxy.local_model import local_model_entries


@dataclass(frozen=True)
class ProviderStatus:
    name: str
    source: str  # settings | admin
    kind: str
    tier: str
    models: list[str]
    concurrency: int
    in_use: int | None  # None: not known here
    breaker: str  # closed | open | half_open | unknown

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def provider_status_read() -> list[ProviderStatus]:
    """Every provider instance (settings file first, then the admin's) with its breaker and leases in use."""
    config = django_settings.CONFIG.values
    # Invalid entries are not listed: the proxy leaves them out too (or, in the settings file, refuses to start).
    listed, _ = providers_list([("settings", [*(config.get("proxy.providers") or []), *local_model_entries(config)]),
                                ("admin", provider_entries())])
    names = [spec.name for spec, _ in listed]
    breakers, in_use = async_to_sync(_states)(names)
    return [ProviderStatus(name=spec.name, source=source, kind=spec.kind, tier=str(spec.tier),
                           models=[m.id for m in spec.models], concurrency=spec.concurrency,
                           in_use=in_use.get(spec.name), breaker=str(breakers.get(spec.name, "unknown")))
            for spec, source in listed]


async def _states(names: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    from proxy.runtime import runtime_current

    try:
        # Only the stores' settings matter here; without providers no credential is resolved in this process.
        settings = proxy_settings_build({**django_settings.CONFIG.values, "proxy.providers": [],
                                         "proxy.local_model.url": None})
    except ConfigError:
        return {}, {}
    running = runtime_current()  # the memory stores are only readable in the process that serves
    breakers: Breakers | None = None
    limiter: Limiter | None = None
    own_breakers = own_limiter = False
    if settings.breaker.store == "redis":
        breakers, own_breakers = breakers_build(settings.breaker), True
    elif running is not None:
        breakers = running.breakers
    if settings.limits.store == "redis":
        limiter, own_limiter = limiter_build(settings.limits), True
    elif running is not None:
        limiter = running.limiter
    try:
        states = await breakers.states(names) if breakers is not None else {}
        counts = await limiter.in_use(names) if limiter is not None else {}
    finally:
        if own_breakers and breakers is not None:
            await breakers.aclose()
        if own_limiter and limiter is not None:
            await limiter.aclose()
    return dict(states), counts
