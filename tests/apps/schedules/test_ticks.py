"""Ticks: exact instants of cron expressions (in their time zones) and intervals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.schedules.ticks import CronTicks, IntervalTicks


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_cron_expression_ticks_on_its_minutes() -> None:
    ticks = CronTicks.parse("*/15 * * * *")
    assert list(ticks.between(utc(2026, 1, 5, 10, 0), utc(2026, 1, 5, 11, 0))) == [
        utc(2026, 1, 5, 10, 15), utc(2026, 1, 5, 10, 30), utc(2026, 1, 5, 10, 45), utc(2026, 1, 5, 11, 0)]


def test_the_next_tick_is_strictly_after_the_moment() -> None:
    ticks = CronTicks.parse("0 3 * * *")
    assert ticks.next_after(utc(2026, 1, 5, 3, 0)) == utc(2026, 1, 6, 3, 0)
    assert ticks.next_after(utc(2026, 1, 5, 2, 59, 59)) == utc(2026, 1, 5, 3, 0)


def test_a_cron_expression_is_read_in_its_time_zone() -> None:
    ticks = CronTicks.parse("0 9 * * mon-fri", "Europe/Paris")
    # Friday 9:00 in Paris in winter is 8:00 UTC; the next is Monday.
    assert ticks.next_after(utc(2026, 1, 9, 7, 0)) == utc(2026, 1, 9, 8, 0)
    assert ticks.next_after(utc(2026, 1, 9, 8, 0)) == utc(2026, 1, 12, 8, 0)
    # In summer Paris is UTC+2.
    assert ticks.next_after(utc(2026, 7, 1, 0, 0)) == utc(2026, 7, 1, 7, 0)


def test_a_local_time_skipped_by_daylight_saving_does_not_fire() -> None:
    ticks = CronTicks.parse("30 2 * * *", "Europe/Paris")  # 2026-03-29: 02:00 -> 03:00 in Paris
    fires = list(ticks.between(utc(2026, 3, 27, 12), utc(2026, 3, 31, 12)))
    assert fires == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 30, 0, 30), utc(2026, 3, 31, 0, 30)]


def test_a_local_time_repeated_by_daylight_saving_fires_once() -> None:
    ticks = CronTicks.parse("30 2 * * *", "Europe/Paris")  # 2026-10-25: 03:00 -> 02:00 in Paris
    fires = list(ticks.between(utc(2026, 10, 24, 12), utc(2026, 10, 26, 12)))
    assert fires == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_macros_name_common_expressions() -> None:
    assert CronTicks.parse("@hourly").expression == "0 * * * *"
    assert CronTicks.parse("@daily").next_after(utc(2026, 1, 5, 12)) == utc(2026, 1, 6)


@pytest.mark.parametrize(("expression", "timezone", "says"), [
    ("* * * *", "UTC", "5 fields"),
    ("61 * * * *", "UTC", "invalid cron expression"),
    ("0 0 30 2 *", "UTC", "invalid cron expression"),
    ("* * * * *", "Mars/Olympus", "unknown time zone"),
])
def test_bad_expressions_are_refused_naming_the_problem(expression: str, timezone: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        CronTicks.parse(expression, timezone)


def test_interval_ticks_count_from_their_anchor() -> None:
    anchor = utc(2026, 1, 1, 0, 0, 0)
    ticks = IntervalTicks(seconds=90, anchor=anchor)
    assert ticks.next_after(anchor) == anchor + timedelta(seconds=90)
    assert ticks.next_after(anchor + timedelta(seconds=100)) == anchor + timedelta(seconds=180)
    assert list(ticks.between(anchor, anchor + timedelta(seconds=270))) == [
        anchor + timedelta(seconds=s) for s in (90, 180, 270)]


def test_a_long_gap_is_counted_without_listing_every_tick() -> None:
    anchor = utc(2026, 1, 1)
    gap = IntervalTicks(seconds=1, anchor=anchor).gap(anchor, anchor + timedelta(days=30), keep=3)
    assert gap.count == 30 * 86400
    assert gap.first == anchor + timedelta(seconds=1)
    assert gap.newest == [anchor + timedelta(days=30, seconds=s) for s in (-2, -1, 0)]


def test_a_cron_gap_gives_its_count_first_and_newest_ticks() -> None:
    gap = CronTicks.parse("0 * * * *").gap(utc(2026, 1, 1), utc(2026, 1, 2), keep=2)
    assert (gap.count, gap.first, gap.newest) == (24, utc(2026, 1, 1, 1), [utc(2026, 1, 1, 23), utc(2026, 1, 2)])
