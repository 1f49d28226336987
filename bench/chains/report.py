"""The table, the targets and the caveat printed at the end of a run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from statistics import median, quantiles

from bench.chains.legion import Breakdown
from bench.chains.measure import Figures
from bench.chains.spool import SpoolFigures

STEPS = 10
# Legion's time per step, at most this many times each peer's (issue #10; #3 had 1.5x bare Celery). Legion keeps
# a row per run, so its peer is Celery keeping every task's result in the database; bare Celery keeps nothing.
TARGETS = {"celery-db": 1.0, "celery": 2.5}
PEERS = {"celery-db": "Celery with database results", "celery": "bare Celery"}
COLUMNS = {"legion": "Legion", "celery-db": "Celery+DB", "celery": "Celery"}
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


def table(figures: dict[str, Figures], burst_count: int) -> str:
    """Each system's figures, then how many times a peer's Legion's are (above 1: Legion is slower)."""
    steps = {system: per_step_ms(figures[system]) for system in COLUMNS}
    median_, p90, load = ({system: step[index] for system, step in steps.items()} for index in range(3))
    rows = [
        ("per-step latency, median (ms)", median_, median_),
        ("per-step latency, p90 (ms)", p90, p90),
        (f"per-step cost, {burst_count} chains in flight (ms)", load, load),
        # Throughput's ratio is the cost's: Legion's steps per second are the peer's divided by it.
        (f"steps per second, {burst_count} chains in flight", {system: 1000 / ms for system, ms in load.items()},
         load),
    ]
    lines = [f"{'':44}" + "".join(f" {column:>9}" for column in COLUMNS.values())
             + "".join(f" {'vs ' + COLUMNS[peer]:>13}" for peer in TARGETS)]
    for name, shown, compared in rows:
        lines.append(f"{name:44}" + "".join(f" {shown[system]:9.2f}" for system in COLUMNS)
                     + "".join(f" {compared['legion'] / compared[peer]:12.2f}x" for peer in TARGETS))
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


def targets(figures: dict[str, Figures], burst_count: int, breakdown: Breakdown, spool: SpoolFigures | None,
            db_results: dict[str, int], chains: int) -> list[Target]:
    """The ratio targets against each peer, then the checks that every system did all its work, once."""
    l_median, _, l_load = per_step_ms(figures["legion"])
    found = []
    for peer, target in TARGETS.items():
        p_median, _, p_load = per_step_ms(figures[peer])
        for when, ratio in (("chains one at a time", l_median / p_median),
                            (f"{burst_count} chains in flight", l_load / p_load)):
            found.append(Target(f"Legion per step vs {PEERS[peer]}, {when}", ratio <= target,
                                f"{ratio:.2f}x (target <= {target}x)"))
    succeeded = breakdown.runs.get("succeeded", 0)
    found.append(Target("every Legion run succeeded, exactly once",
                        succeeded == chains * STEPS and sum(breakdown.runs.values()) == succeeded,
                        f"{succeeded} succeeded of {chains * STEPS} expected"))
    stored = db_results.get("SUCCESS", 0)
    found.append(Target("every Celery+DB task's result stored, exactly once",
                        stored == chains * STEPS and sum(db_results.values()) == stored,
                        f"{stored} SUCCESS rows of {chains * STEPS} expected"))
    if spool is not None:
        found.append(Target("every spooled message replayed onto the broker",
                            spool.written == spool.replayed and spool.arrived == spool.replayed + spool.published,
                            f"{spool.written} spooled, {spool.replayed} replayed, "
                            f"{spool.arrived - spool.published} arrived"))
    return found


def caveat(load_before: float, load_after: float) -> str:
    return (f"Caveat: {os.cpu_count()} cores shared by the workers, RabbitMQ, PostgreSQL, Redis and this load "
            f"generator (and whatever else runs: load average {load_before:.1f} before, {load_after:.1f} after); "
            f"absolute figures move with that load, the ratios much less. Run it twice before believing one.")
