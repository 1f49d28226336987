"""The table, the targets and the caveat printed at the end of a run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from statistics import median, quantiles

from bench.chains.legion import Breakdown
from bench.chains.measure import Figures
from bench.chains.spool import SpoolFigures

STEPS = 10
TARGET = 1.5  # Legion's overhead per step, at most this many times bare Celery's (issue #3)


@dataclass(frozen=True)
class Target:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'MISS'}  {self.name}: {self.detail}"


def per_step_ms(figures: Figures) -> tuple[float, float, float]:
    """Median, p90 and cost under load of one step, in milliseconds."""
    steps = [latency / STEPS * 1000 for latency in figures.latencies]
    p90 = quantiles(steps, n=10)[-1] if len(steps) > 1 else steps[0]
    load = figures.burst_seconds / (figures.burst_chains * STEPS) * 1000
    return median(steps), p90, load


def table(legion: Figures, celery: Figures, burst_count: int) -> str:
    (l_median, l_p90, l_load), (c_median, c_p90, c_load) = per_step_ms(legion), per_step_ms(celery)
    rows = [
        ("per-step latency, median (ms)", l_median, c_median),
        ("per-step latency, p90 (ms)", l_p90, c_p90),
        (f"per-step cost, {burst_count} chains in flight (ms)", l_load, c_load),
        (f"steps per second, {burst_count} chains in flight", 1000 / l_load, 1000 / c_load),
    ]
    lines = [f"{'':44} {'Legion':>9} {'Celery':>9} {'ratio':>8}"]
    for name, ours, theirs in rows:
        ratio = theirs / ours if name.startswith("steps per second") else ours / theirs
        lines.append(f"{name:44} {ours:9.2f} {theirs:9.2f} {ratio:7.2f}x")
    return "\n".join(lines)


def breakdown_lines(breakdown: Breakdown) -> list[str]:
    runs = ", ".join(f"{count} {status}" for status, count in sorted(breakdown.runs.items()))
    return [
        f"Legion hop, medians from the runs' timestamps: dispatch (child row -> claimed) "
        f"{breakdown.dispatch_ms:.2f} ms,"
        f" execute (claimed -> finished) {breakdown.execute_ms:.2f} ms",
        f"Legion runs in the bench database: {runs}",
    ]


def spool_lines(spool: SpoolFigures) -> list[str]:
    rate = SpoolFigures.rate
    return [
        f"spool: written while the broker is down  {rate(spool.written, spool.write_seconds):8.0f} msg/s"
        f"  ({spool.written} messages, each fsync'd)",
        f"spool: replayed when it is back          {rate(spool.replayed, spool.replay_seconds):8.0f} msg/s"
        f"  ({spool.replayed} messages, confirmed publishes)",
        f"publisher, broker up (for comparison)    {rate(spool.published, spool.publish_seconds):8.0f} msg/s"
        f"  ({spool.published} messages, confirmed publishes)",
    ]


def targets(legion: Figures, celery: Figures, burst_count: int, breakdown: Breakdown,
            spool: SpoolFigures | None, legion_chains: int) -> list[Target]:
    (l_median, _, l_load), (c_median, _, c_load) = per_step_ms(legion), per_step_ms(celery)
    found = [
        Target("Legion per-step overhead, chains one at a time", l_median / c_median <= TARGET,
               f"{l_median / c_median:.2f}x bare Celery (target <= {TARGET}x)"),
        Target(f"Legion per-step overhead, {burst_count} chains in flight", l_load / c_load <= TARGET,
               f"{l_load / c_load:.2f}x bare Celery (target <= {TARGET}x)"),
    ]
    succeeded = breakdown.runs.get("succeeded", 0)
    found.append(Target("every Legion run succeeded, exactly once",
                        succeeded == legion_chains * STEPS and sum(breakdown.runs.values()) == succeeded,
                        f"{succeeded} succeeded of {legion_chains * STEPS} expected"))
    if spool is not None:
        found.append(Target("every spooled message replayed onto the broker",
                            spool.written == spool.replayed and spool.arrived == spool.replayed + spool.published,
                            f"{spool.written} spooled, {spool.replayed} replayed, "
                            f"{spool.arrived - spool.published} arrived"))
    return found


def caveat(load_before: float, load_after: float) -> str:
    return (f"Caveat: {os.cpu_count()} cores shared by the worker, RabbitMQ, PostgreSQL, Redis and this load "
            f"generator (and whatever else runs: load average {load_before:.1f} before, {load_after:.1f} after); "
            f"absolute figures move with that load, the ratios much less. Run it twice before believing one.")
