"""The disk spool: durable JSON lines, oldest-first replay, resumable drains, rotation and eviction."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from apps.core.spool.store import Spool, SpoolLimits

LIMITS = SpoolLimits(max_file_bytes=10_000, max_total_bytes=1_000_000, max_files=100, max_age_seconds=3600)


def test_messages_come_back_oldest_first_and_the_files_are_removed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, LIMITS)
    for n in range(5):
        spool.append({"n": n})
    assert spool.depth().messages == 5
    seen: list[int] = []
    assert spool.drain(lambda messages: seen.extend(message["n"] for message in messages)) == 5
    assert seen == [0, 1, 2, 3, 4]
    assert spool.files() == [] and spool.depth().messages == 0


def test_files_rotate_by_size_and_sort_by_age(tmp_path: Path) -> None:
    spool = Spool(tmp_path, SpoolLimits(max_file_bytes=300, max_total_bytes=10**6, max_files=100,
                                        max_age_seconds=3600))
    for n in range(20):
        spool.append({"n": n, "pad": "x" * 50})
    files = spool.files()
    assert len(files) > 3
    assert all(path.stat().st_size <= 300 for path in files)
    seen: list[int] = []
    spool.drain(lambda messages: seen.extend(message["n"] for message in messages))
    assert seen == list(range(20))


def test_a_drain_that_fails_part_way_resumes_where_it_stopped(tmp_path: Path) -> None:
    spool = Spool(tmp_path, LIMITS)
    for n in range(4):
        spool.append({"n": n})
    seen: list[int] = []
    failures = [ConnectionError("broker went away")]

    def flaky(messages: list[dict[str, Any]]) -> None:
        if any(message["n"] == 2 for message in messages) and failures:
            raise failures.pop()
        seen.extend(message["n"] for message in messages)

    with pytest.raises(ConnectionError):
        spool.drain(flaky, chunk=2)
    assert spool.depth().messages == 2
    spool.drain(flaky, chunk=2)
    assert seen == [0, 1, 2, 3]


def test_a_writer_whose_file_was_drained_starts_a_new_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path, LIMITS)
    spool.append({"n": 1})
    spool.drain(lambda messages: None)
    spool.append({"n": 2})
    seen: list[int] = []
    spool.drain(lambda messages: seen.extend(message["n"] for message in messages))
    assert seen == [2]


def test_concurrent_writers_and_a_drainer_lose_no_message(tmp_path: Path) -> None:
    spools = [Spool(tmp_path, SpoolLimits(max_file_bytes=2_000, max_total_bytes=10**7, max_files=10_000,
                                          max_age_seconds=3600)) for _ in range(4)]
    seen: list[int] = []
    stop = threading.Event()

    def write(spool: Spool, base: int) -> None:
        for n in range(250):
            spool.append({"n": base + n})

    def drain() -> None:
        while not stop.is_set():
            spools[0].drain(lambda messages: seen.extend(message["n"] for message in messages))

    drainer = threading.Thread(target=drain)
    drainer.start()
    writers = [threading.Thread(target=write, args=(spool, i * 1000)) for i, spool in enumerate(spools)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=30)
    stop.set()
    drainer.join(timeout=30)
    spools[0].drain(lambda messages: seen.extend(message["n"] for message in messages))
    assert sorted(seen) == sorted(i * 1000 + n for i in range(4) for n in range(250))


def test_old_and_excess_files_are_evicted_oldest_first(tmp_path: Path) -> None:
    spool = Spool(tmp_path, SpoolLimits(max_file_bytes=60, max_total_bytes=10**6, max_files=3,
                                        max_age_seconds=3600))
    for n in range(6):
        spool.append({"n": n, "pad": "y" * 20})
    assert len(spool.files()) <= 3
    stale = tmp_path / "spool-19990101T000000000000-1-abcd0000.jsonl"
    stale.write_text(json.dumps({"n": -1}) + "\n")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    spool.evict()
    assert not stale.exists()
    seen: list[int] = []
    spool.drain(lambda messages: seen.extend(message["n"] for message in messages))
    assert seen == sorted(seen) and seen[-1] == 5


def test_the_health_check_counts_the_spool_files(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.core.health import check_spool

    monkeypatch.setitem(settings.CONFIG.values, "spool.dir", str(tmp_path))
    spool = Spool(tmp_path, LIMITS)
    spool.append({"n": 1})
    result = check_spool()
    assert result.ok and "1 file(s)" in result.detail
