"""From a requested model name to an ordered list of lanes (provider instance + model) that can serve the request.

Resolution: a concrete model id, `provider/model`, a user alias, or `auto`. Then hard filters (pins from
headers, the caller's barred tiers, capabilities the request needs, context window), then order: cheapest
capable tier first (local → direct → fleet → cloud → frontier), then price, then declaration order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from apps.rbac.decisions import policies_evaluate
from proxy.callers import Caller
from proxy.config import TIER_RANK, TIERS, ModelSpec, ProviderSpec
from proxy.errors import ErrorKind, ProxyError, invalid
from proxy.types import ChatRequest

AUTO = "auto"
CONTEXT_SHARE = 0.9  # leave a tenth of the window for the answer and for the estimator's error
# What a newcomer with an empty lineup is told: every place a provider can come from (docs/proxy.md has them all).
NO_PROVIDER = (
    "no provider is declared. Declare one under `proxy.providers` in legion.toml (or as JSON in "
    "LEGION_PROXY_PROVIDERS), or in the admin's provider catalog at /admin/llm/provider/; in lite mode "
    "`./legion start` also starts the bundled local model (`./legion doctor` says why it is absent). "
    "See docs/proxy.md, 'Declaring providers and models'."
)


@dataclass(frozen=True, slots=True)
class Lane:
    provider: ProviderSpec
    model: ModelSpec
    tier: str
    order: int

    @property
    def key(self) -> str:
        return f"{self.provider.name}/{self.model.id}"

    @property
    def rank(self) -> tuple[int, float, int]:
        return TIER_RANK[self.tier], self.model.price_in + self.model.price_out, self.order


@dataclass(frozen=True, slots=True)
class Pins:
    """Hard choices a client made with x-legion-tier / x-legion-provider / x-legion-model."""

    tier: str | None = None
    provider: str | None = None
    model: str | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Pins:
        tier = headers.get("x-legion-tier") or None
        if tier is not None and tier not in TIER_RANK:
            raise invalid(f"x-legion-tier must be one of {', '.join(TIERS)}, got '{tier}'", param="x-legion-tier")
        return cls(tier=tier, provider=headers.get("x-legion-provider") or None,
                   model=headers.get("x-legion-model") or None)


class Lineup:
    """Every lane the settings declare, and the aliases over them; immutable once built."""

    def __init__(self, providers: Sequence[ProviderSpec], aliases: Mapping[str, Sequence[str]]) -> None:
        self.lanes = tuple(
            Lane(provider, model, provider.tier_of(model), order)
            for order, (provider, model) in enumerate((p, m) for p in providers for m in p.models)
        )
        self.by_id: dict[str, list[Lane]] = {}
        for lane in self.lanes:
            self.by_id.setdefault(lane.model.id, []).append(lane)
        self.by_key = {lane.key: lane for lane in self.lanes}
        self.aliases = dict(aliases)
        for alias, members in self.aliases.items():
            for member in members:
                if member not in self.by_id and member not in self.by_key:
                    raise ValueError(f"proxy.aliases '{alias}': '{member}' names no declared model")

    def names(self) -> list[str]:
        """What clients may ask for: model ids, then aliases, then `auto` when anything can chat."""
        chat = any(not lane.model.embeddings_only for lane in self.lanes)
        return [*self.by_id, *(a for a in self.aliases if a not in self.by_id), *([AUTO] if chat else [])]

    def knows(self, name: str) -> bool:
        """Whether `name` is something a client may ask for: a listed name or a `provider/model` pair."""
        return name in self.by_key or name in self.names()

    def resolve(self, name: str) -> list[Lane]:
        """The lanes behind `name`; empty only for `auto` when no declared model can chat."""
        if not self.lanes:
            raise ProxyError(ErrorKind.NO_CANDIDATE, f"no model can serve '{name}': {NO_PROVIDER}", param="model")
        if name == AUTO and AUTO not in self.aliases:
            return [lane for lane in self.lanes if not lane.model.embeddings_only]
        if name in self.aliases:
            return _unique(lane for member in self.aliases[name] for lane in self._named(member))
        lanes = self._named(name)
        if not lanes:
            known = ", ".join(self.names()[:20])
            raise ProxyError(ErrorKind.UNKNOWN_MODEL, f"unknown model '{name}'; known models: {known}", param="model")
        return lanes

    def _named(self, name: str) -> list[Lane]:
        if name in self.by_id:
            return self.by_id[name]
        lane = self.by_key.get(name)
        return [lane] if lane else []

    def chat_plan(self, request: ChatRequest, *, prompt_tokens: int, pins: Pins, caller: Caller) -> list[Lane]:
        """Ordered lanes able to serve `request`, whose prompt is estimated at `prompt_tokens`; a 400 naming every
        refused lane and why when none can."""
        needs = _needs(request)
        windows: list[int] = []  # the windows of lanes refused only because the prompt is too long for them
        unable: list[Lane] = []

        def refusal(lane: Lane) -> str | None:
            missing = needs - lane.model.capabilities
            if lane.model.embeddings_only:
                unable.append(lane)
                return "serves only embeddings"
            if missing:
                unable.append(lane)
                return f"lacks {', '.join(sorted(missing))}"
            if prompt_tokens > CONTEXT_SHARE * lane.model.context_window:
                windows.append(lane.model.context_window)
                return f"has a {lane.model.context_window}-token window, the prompt is ~{prompt_tokens} tokens"
            return None

        try:
            return self._plan(request.model, "serve this request", refusal, pins=pins, caller=caller)
        except ProxyError as error:
            if error.kind is not ErrorKind.NO_CANDIDATE or not windows or unable:
                raise
            # Worded as the providers word it, so an agent's own remedy (Claude Code compacts) engages.
            limit = int(CONTEXT_SHARE * max(windows))
            raise ProxyError(ErrorKind.CONTEXT_LENGTH, f"prompt is too long: ~{prompt_tokens} tokens > {limit} maximum "
                             f"({error.message})", param="messages") from None

    def count_plan(self, request: ChatRequest, *, pins: Pins, caller: Caller) -> list[Lane]:
        """Ordered lanes that may count `request`'s tokens: any chat model, whatever the request needs and however
        long the prompt. Counting sends nothing to answer, and it is how a client learns its prompt is too long."""
        return self._plan(request.model, "count tokens",
                          lambda lane: "serves only embeddings" if lane.model.embeddings_only else None,
                          pins=pins, caller=caller)

    def embed_plan(self, model: str, *, pins: Pins, caller: Caller) -> list[Lane]:
        return self._plan(model, "embed",
                          lambda lane: None if "embeddings" in lane.model.capabilities else "serves no embeddings",
                          pins=pins, caller=caller)

    def _plan(self, name: str, doing: str, refusal: Callable[[Lane], str | None], *, pins: Pins,
              caller: Caller) -> list[Lane]:
        """The lanes behind `name` that RBAC, the pins and `refusal` (a reason, or None to keep) leave, cheapest
        first; a 400 listing every lane and why it was refused when none is left."""
        lanes = self.resolve(name)
        if not lanes:
            every = ", ".join(lane.key for lane in self.lanes)
            raise ProxyError(ErrorKind.NO_CANDIDATE, f"no model can {doing} for '{name}': it chooses among chat "
                             f"models, and every declared model serves only embeddings ({every})", param="model")
        rejected: list[str] = []
        kept = []
        for lane in _pinned(_permitted(lanes, caller, name, rejected), pins, rejected):
            reason = refusal(lane)
            if reason is None:
                kept.append(lane)
            else:
                rejected.append(f"{lane.key} {reason}")
        if not kept:
            raise ProxyError(ErrorKind.NO_CANDIDATE, f"no model can {doing} for '{name}': {'; '.join(rejected)}",
                             param="model")
        return sorted(kept, key=lambda lane: lane.rank)


def _needs(request: ChatRequest) -> set[str]:
    needs = set()
    if request.tools and request.tool_choice.mode != "none":
        needs.add("tools")
    if request.has_images:
        needs.add("vision")
    if request.response_format is not None:
        needs.add("json")
    return needs


def _permitted(lanes: list[Lane], caller: Caller, name: str, rejected: list[str]) -> list[Lane]:
    """The lanes RBAC lets this caller use (`execute` on `models/<tier>/<provider>/<model>`: a policy can bar a
    tier, a provider or a model), the others noted in `rejected`; a 403 naming them all when it bars every one
    (rather than a 400)."""
    who = caller.principal or "this caller"
    allowed = []
    for lane in lanes:
        if policies_evaluate(caller.policies, "execute", f"models/{lane.tier}/{lane.key}").allowed:
            allowed.append(lane)
        else:
            rejected.append(f"{lane.key} is barred to {who} by RBAC")
    if not allowed:
        raise ProxyError(ErrorKind.FORBIDDEN, f"{who} may not use any model behind '{name}' (RBAC `execute` on "
                         f"models/<tier>/<provider>/<model>): {', '.join(lane.key for lane in lanes)}", param="model")
    return allowed


def _pinned(lanes: Iterable[Lane], pins: Pins, rejected: list[str]) -> Iterable[Lane]:
    for lane in lanes:
        if pins.tier and lane.tier != pins.tier:
            rejected.append(f"{lane.key} is not in pinned tier {pins.tier}")
        elif pins.provider and lane.provider.name != pins.provider:
            rejected.append(f"{lane.key} is not on pinned provider {pins.provider}")
        elif pins.model and pins.model not in (lane.model.id, lane.key):
            rejected.append(f"{lane.key} is not pinned model {pins.model}")
        else:
            yield lane


def _unique(lanes: Iterable[Lane]) -> list[Lane]:
    seen: dict[str, Lane] = {}
    for lane in lanes:
        seen.setdefault(lane.key, lane)
    return list(seen.values())
