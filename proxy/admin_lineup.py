"""The admin's part of the lineup, kept current in each proxy process without touching the database on a request.

Providers and aliases edited in the admin or the API join the settings file's. The proxy imports no app: it reads
them through the reader the composition root names in the PROXY_ADMIN_ENTRIES setting (legion_site/settings),
which is apps.llm's. Every write of those rows bumps VERSION_KEY in Django's cache after commit; each proxy
process reads it at most once per POLL_SECONDS, from a background task the request path only schedules, and when
it moved loads the rows in a worker thread and hands the new lineup to the runtime, which swaps it in
(proxy/runtime.py). Requests already running keep the lineup and clients they started with.

Name clashes: the settings file wins. The admin refuses a provider or alias name the settings file declares;
should the file later declare one the database holds, the database's is left out and logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils.module_loading import import_string

from apps.core.config.secrets import VaultAccess
from proxy.config import ConfigError, ProviderSpec, ProxySettings, provider_credential, provider_spec_validate

log = logging.getLogger("legion.proxy.catalog")  # the name (and the log lines) operators already filter on
POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 60.0  # between checks while the database or cache keeps failing
VERSION_KEY = "llm:catalog:version"  # bumped by the app that stores the rows (apps/llm/signals.py)


@dataclass(frozen=True)
class AdminEntries:
    """The admin's providers and aliases in the settings file's format, as the app that stores them reads them."""

    providers: Sequence[Mapping[str, Any]] = ()
    aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)


def admin_entries_read() -> AdminEntries:
    """The admin's rows from the reader named by the PROXY_ADMIN_ENTRIES setting; none named, there are none.

    Blocking (it reads the database): call from a worker thread or outside the event loop.
    """
    reader = getattr(django_settings, "PROXY_ADMIN_ENTRIES", None)
    if not reader:
        return AdminEntries()
    entries: AdminEntries = import_string(reader)()
    return entries


@dataclass(frozen=True)
class AdminLineup:
    """The admin's providers (validated, credentials resolved) and aliases, as of `version`."""

    version: object = None
    providers: tuple[ProviderSpec, ...] = ()
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict)


def admin_lineup_load() -> AdminLineup:
    """Read the rows (blocking: call from a worker thread or at startup). A provider that fails validation
    or whose credentials do not resolve is left out with a warning rather than stopping the proxy."""
    version = cache.get(VERSION_KEY)  # read first: a change racing this load moves it again, and we reload
    config = django_settings.CONFIG.values
    vault = VaultAccess(addr=config.get("vault.addr"), token=config.get("vault.token"))
    entries = admin_entries_read()
    providers, credentials = [], {}
    for index, raw in enumerate(entries.providers):
        try:
            spec = provider_spec_validate(raw, index=index)
            key = provider_credential(spec, vault=vault)
        except ConfigError as exc:
            log.warning("admin provider left out of the catalog: %s", exc)
            continue
        providers.append(spec)
        if key is not None:
            credentials[spec.name] = key
    aliases = {name: tuple(members) for name, members in entries.aliases.items()}
    return AdminLineup(version, tuple(providers), aliases, credentials)


def settings_merge(declared: ProxySettings, admin: AdminLineup | None) -> ProxySettings:
    """The settings file's lineup plus the admin's; on a name clash the file's entry is kept.

    Alias members that no longer name a model (deleted in the admin) are dropped, and an alias left empty
    with them, so an edit in the admin can never stop a proxy.
    """
    if admin is None or not (admin.providers or admin.aliases):
        return declared
    taken = {p.name for p in declared.providers}
    providers = [*declared.providers]
    for spec in admin.providers:
        if spec.name in taken:
            log.warning("admin provider '%s' clashes with the settings file's and is left out", spec.name)
            continue
        providers.append(spec)
    names = {m.id for p in providers for m in p.models} | {f"{p.name}/{m.id}" for p in providers for m in p.models}
    aliases = dict(declared.aliases)
    for alias, members in admin.aliases.items():
        kept = tuple(m for m in members if m in names)
        if alias in aliases or not kept:
            log.warning("admin alias '%s' left out (clashes with the settings file or names no model)", alias)
            continue
        aliases[alias] = kept
    credentials = {**{k: v for k, v in admin.credentials.items() if k not in taken}, **declared.credentials}
    return dataclasses.replace(declared, providers=tuple(providers), aliases=aliases, credentials=credentials)


class LineupWatcher:
    """Notices changes of the admin's rows made by any process and hands the new admin lineup to `on_change`."""

    def __init__(self) -> None:
        self.admin: AdminLineup | None = None
        self.on_change: Callable[[AdminLineup], None] | None = None
        self._polled_at = 0.0
        self._checking = False
        self._failures = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    def preload(self) -> None:
        """Load at startup, outside any event loop, so the first request already sees the admin's providers.

        A database that is not there yet (not migrated, not reachable) only delays them to the first poll.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            try:
                self.admin = admin_lineup_load()
            except Exception as exc:  # noqa: BLE001 - any failure here only means "load on the first poll"
                log.info("admin catalog not loaded at startup (%r); loading on the first request", exc)

    def poke(self) -> None:
        """On the request path: at most once per POLL_SECONDS, schedule a version check; never waits."""
        now = time.monotonic()
        interval = min(POLL_SECONDS * 2 ** self._failures, MAX_BACKOFF_SECONDS)
        if now - self._polled_at < interval or self._checking:
            return
        self._polled_at, self._checking = now, True
        task = asyncio.get_running_loop().create_task(self._check())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self) -> None:
        try:
            await self._reload_if_changed()
        except Exception as exc:  # noqa: BLE001 - keep serving the lineup we have; try again, backing off
            self._failures += 1
            # One warning per outage, not one per poll: checks back off to MAX_BACKOFF_SECONDS meanwhile.
            (log.warning if self._failures == 1 else log.debug)(
                "catalog version check failed, keeping the current catalog: %r", exc)
        else:
            if self._failures:
                log.info("catalog version check works again after %d failure(s)", self._failures)
            self._failures = 0
        finally:
            self._checking = False

    async def _reload_if_changed(self) -> None:
        version = await cache.aget(VERSION_KEY)
        if self.admin is not None and version == self.admin.version:
            return
        admin = await database_sync_to_async(admin_lineup_load)()
        self.admin = admin
        if self.on_change is not None:
            self.on_change(admin)


watcher = LineupWatcher()
