"""Interleaved rounds: chains one at a time (per-step latency) and many in flight (per-step cost under load)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.chains.marks import marks_clear, marks_wait

Start = Callable[[str], None]  # starts one chain that will report `mark` when its last step runs
TIMEOUT = 120.0
WARMUP = 3  # chains per system before the rounds


@dataclass
class Figures:
    """What one system did over all rounds."""

    latencies: list[float] = field(default_factory=list)  # seconds per chain, chains one at a time
    burst_chains: int = 0
    burst_seconds: float = 0.0  # first start -> last chain's end, summed over rounds

    def merge_burst(self, chains: int, seconds: float) -> None:
        self.burst_chains += chains
        self.burst_seconds += seconds


def sequential(start: Start, *, key: str, label: str, count: int) -> list[float]:
    """Start a chain, wait for its end, repeat: the latency of a chain on an otherwise idle worker."""
    latencies = []
    for index in range(count):
        name = f"{label}-{index}"
        began = time.time()
        start(f"{key}|{name}")
        latencies.append(marks_wait(key, 1, TIMEOUT)[name] - began)
    return latencies


def burst(start: Start, *, key: str, label: str, count: int) -> float:
    """Start `count` chains as fast as the driver can, wait for all: the cost per step when the worker is busy."""
    began = time.time()
    for index in range(count):
        start(f"{key}|{label}-{index}")
    return max(marks_wait(key, count, TIMEOUT).values()) - began


def rounds_run(systems: dict[str, Start], *, key: str, rounds: int, sequential_count: int,
               burst_count: int) -> dict[str, Figures]:
    """Alternate the systems' order every round, so background load on the machine falls on both alike."""
    marks_clear(key)
    for name, start in systems.items():  # warm pools, connections, caches and the worker's imports
        sequential(start, key=key, label=f"{name}-warm", count=WARMUP)
    figures = {name: Figures() for name in systems}
    for round_number in range(rounds):
        order = list(systems) if round_number % 2 == 0 else list(reversed(systems))
        for name in order:
            figures[name].latencies += sequential(systems[name], key=key, label=f"{name}-seq{round_number}",
                                                  count=sequential_count)
        for name in order:
            seconds = burst(systems[name], key=key, label=f"{name}-burst{round_number}", count=burst_count)
            figures[name].merge_burst(burst_count, seconds)
        print(f"bench: round {round_number + 1} of {rounds} done", file=sys.stderr, flush=True)
    return figures
