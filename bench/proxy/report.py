"""The benchmark's table, ratios and targets, printed from one run's merged results."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bench.proxy.load import Result

# The targets of issue #4 on its 2-core machine; performance targets live here, never in timed unit tests.
ADDED_P50_MS = 2.0
THROUGHPUT_VS_LITELLM = {False: 3.0, True: 10.0}  # streaming? -> Legion req/s over LiteLLM req/s at concurrency 16
CAVEAT = ("machine caveat: {cores} cores shared by the load generator, the proxy under test and the backend "
          "(and by anything else running: load average {load}); figures move between runs, so run it more than once")

Scenario = tuple[bool, int]  # (streaming, concurrency)


def scenario_name(scenario: Scenario) -> str:
    stream, concurrency = scenario
    return f"{'stream' if stream else 'whole'} c={concurrency}"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile in milliseconds; NaN when there are no samples."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


@dataclass
class Target:
    label: str
    value: float
    goal: float
    at_most: bool
    unit: str

    @property
    def passed(self) -> bool:
        return self.value <= self.goal if self.at_most else self.value >= self.goal

    def line(self) -> str:
        verdict = "PASS" if self.passed else "MISS"
        sign = "<=" if self.at_most else ">="
        return f"{verdict}  {self.label}: {self.value:.2f}{self.unit} (target {sign} {self.goal:g}{self.unit})"


def table(results: Mapping[Scenario, Mapping[str, Result]]) -> str:
    head = (f"{'scenario':<12} {'path':<8} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'TTFT p50':>9} {'TTFT p99':>9} {'req/s':>8}")
    rows = [head, "-" * len(head)]
    for scenario, by_path in results.items():
        for path, r in by_path.items():
            ttft = (f"{percentile(r.ttfts, 0.5):>9.2f} {percentile(r.ttfts, 0.99):>9.2f}" if scenario[0]
                    else f"{'-':>9} {'-':>9}")
            rows.append(f"{scenario_name(scenario):<12} {path:<8} {r.completed:>8} {r.errors:>6} "
                        f"{percentile(r.latencies, 0.5):>8.2f} {percentile(r.latencies, 0.99):>8.2f} {ttft} "
                        f"{r.rps:>8.1f}")
    return "\n".join(rows)


def targets(results: Mapping[Scenario, Mapping[str, Result]]) -> list[Target]:
    found: list[Target] = []
    whole, stream = results.get((False, 1), {}), results.get((True, 1), {})
    if "legion" in whole and "direct" in whole:
        found.append(Target("Legion added p50 latency, whole answer, c=1",
                            percentile(whole["legion"].latencies, 0.5) - percentile(whole["direct"].latencies, 0.5),
                            ADDED_P50_MS, True, " ms"))
    if "legion" in stream and "direct" in stream:
        found.append(Target("Legion added p50 time to first token, stream, c=1",
                            percentile(stream["legion"].ttfts, 0.5) - percentile(stream["direct"].ttfts, 0.5),
                            ADDED_P50_MS, True, " ms"))
    for streaming, goal in THROUGHPUT_VS_LITELLM.items():
        by_path = results.get((streaming, 16), {})
        if "legion" in by_path and "litellm" in by_path and by_path["litellm"].rps:
            found.append(Target(f"Legion / LiteLLM throughput, {'stream' if streaming else 'whole answer'}, c=16",
                                by_path["legion"].rps / by_path["litellm"].rps, goal, False, "x"))
    return found


def context_lines(results: Mapping[Scenario, Mapping[str, Result]]) -> list[str]:
    """Figures that are not targets but explain them: added latency at c=1 and Legion's share of direct."""
    lines = []
    stream = results.get((True, 1), {})
    if "legion" in stream and "direct" in stream:
        added = percentile(stream["legion"].latencies, 0.5) - percentile(stream["direct"].latencies, 0.5)
        lines.append(f"info  Legion added p50 latency to the whole 64-chunk stream, c=1: {added:.2f} ms")
    for streaming in (False, True):
        by_path = results.get((streaming, 16), {})
        if "legion" in by_path and "direct" in by_path and by_path["direct"].rps:
            share = by_path["legion"].rps / by_path["direct"].rps
            lines.append(f"info  Legion / direct throughput, {'stream' if streaming else 'whole answer'}, c=16: "
                         f"{share:.2f}x")
    return lines


def caveat() -> str:
    return CAVEAT.format(cores=os.cpu_count(), load=" ".join(f"{x:.1f}" for x in os.getloadavg()))
