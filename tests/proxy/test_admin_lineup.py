"""The lineup watcher backs off while its checks fail, warns once per outage, and recovers."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from proxy import admin_lineup
from proxy.admin_lineup import LineupWatcher


@pytest.mark.anyio
async def test_failing_checks_back_off_warn_once_and_recover(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0
    down = True

    class FlakyCache:
        async def aget(self, key: str) -> object:
            nonlocal calls
            calls += 1
            if down:
                raise ConnectionError("cache down")
            return watcher.admin.version if watcher.admin else None

    monkeypatch.setattr(admin_lineup, "cache", FlakyCache())
    watcher = LineupWatcher()
    watcher.admin = admin_lineup.AdminLineup(version="v1")

    async def poke_after(seconds_ago: float) -> None:
        watcher._polled_at = time.monotonic() - seconds_ago
        watcher.poke()
        await asyncio.gather(*watcher._tasks)  # the check it scheduled, if any

    with caplog.at_level(logging.DEBUG, logger=admin_lineup.log.name):
        await poke_after(1.1)
        await poke_after(1.1)  # one failure: the next check waits 2 s
        assert calls == 1
        await poke_after(2.1)
        assert calls == 2
        await poke_after(3.0)  # two failures: 4 s
        assert calls == 2
        down = False
        await poke_after(4.1)
        assert calls == 3
        await poke_after(1.1)  # recovered with the same version: back to every second
        assert calls == 4

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert any("works again" in r.getMessage() for r in caplog.records)
