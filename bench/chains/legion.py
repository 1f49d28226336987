"""The Legion side: the 10-step chain (a CEL condition and transformation on every hop), started as the API would."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from apps.chains.models import Chain, RunStatus, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import chain_create, relationship_create
from apps.chains.services.runs import chain_trigger
from apps.runners.models import Function
from bench.chains.extension.runners.steps import STEPS

CHAIN_NAME = "bench-ten-steps"
# Type-checked against step_NN's output schema on save, like any relationship an operator writes.
CONDITION = "result.n >= 1 && result.mark == payload.mark"
TRANSFORMATION = '{"n": result.n + 1, "mark": result.mark}'


@dataclass(frozen=True)
class LegionChain:
    chain: Chain
    principal: Any

    def start(self, mark: str) -> None:
        chain_trigger(chain=self.chain, payload={"n": 1, "mark": mark}, principal=self.principal, triggered_by="bench")


def legion_chain_build() -> LegionChain:
    """The chain step_01 -> step_02 -> … -> step_10 in the (fresh) bench database, and an operator to start it."""
    from apps.rbac.models import Policy
    from apps.rbac.services import policy_builtin_ensure, principal_create

    chain = chain_create(name=CHAIN_NAME, description="benchmark: ten no-op steps, every hop conditional")
    steps = [Function.objects.get(qualified_name=f"bench.steps.step_{n:02d}", available=True)
             for n in range(1, STEPS + 1)]
    for trigger, action in zip(steps, steps[1:], strict=False):
        relationship_create(by=HOST, chain=chain, trigger=trigger, action=action, condition=CONDITION,
                            transformation=TRANSFORMATION)
    chain.refresh_from_db()
    policy_builtin_ensure()
    principal = principal_create(name="bench", policies=[Policy.objects.get(name="operator")])
    return LegionChain(chain=chain, principal=principal)


@dataclass(frozen=True)
class Breakdown:
    """Medians over the hops of sequential chains, from the runs' own timestamps (milliseconds)."""

    dispatch_ms: float  # child row created (parent finishing) -> claimed by a worker: commit, publish, broker, pick-up
    execute_ms: float  # claimed -> finished: claim, function, relationships, CEL, children built
    runs: dict[str, int]  # status -> count, over every bench run


def legion_breakdown(*, mark_prefix: str) -> Breakdown:
    hops = TaskRun.objects.filter(payload__mark__startswith=mark_prefix, parent__isnull=False,
                                  status=RunStatus.SUCCEEDED)
    times = list(hops.values_list("created_at", "started_at", "finished_at"))
    dispatch = [(started - created).total_seconds() * 1000 for created, started, _ in times]
    execute = [(finished - started).total_seconds() * 1000 for _, started, finished in times]
    counts: dict[str, int] = {}
    for status in TaskRun.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return Breakdown(dispatch_ms=median(dispatch) if dispatch else 0.0,
                     execute_ms=median(execute) if execute else 0.0, runs=counts)
