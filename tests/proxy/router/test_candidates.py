"""Model names and aliases resolve to lanes; filters and tier order decide who is asked, and in what order."""

from __future__ import annotations

import pytest

from apps.rbac.decisions import PolicyData
from proxy.errors import ErrorKind, ProxyError
from proxy.router.candidates import Catalog, Pins
from proxy.types import Caller, ChatRequest, ImagePart, Message, TextPart
from tests.proxy.conftest import WEATHER, chat, model_spec, provider_spec

CATALOG = Catalog(
    [
        provider_spec("claude", "anthropic", "http://x", model_spec("sonnet", "tools", "vision", price_in=3)),
        provider_spec("gpt", "openai", "http://x", model_spec("mini", "tools", price_in=1),
                      model_spec("big", "tools", "vision", price_in=5)),
        provider_spec("ollama", "ollama", "http://x", model_spec("llama", context_window=1000)),
        provider_spec("ollama2", "ollama", "http://y", model_spec("llama", context_window=1000), tier="direct"),
        provider_spec("vllm", "openai_compatible", "http://z", model_spec("qwen", "tools")),
    ],
    {"smart": ["sonnet", "big"], "fast": ["llama", "gpt/mini"]},
)


def keys(request_model: str, pins: Pins = Pins(), caller: Caller = Caller(), **fields: object) -> list[str]:
    request = chat(model=request_model, **fields)
    return [lane.key for lane in CATALOG.chat_plan(request, pins=pins, caller=caller)]


def test_auto_orders_by_tier_then_price() -> None:
    assert keys("auto") == ["ollama/llama", "ollama2/llama", "vllm/qwen", "gpt/mini", "claude/sonnet", "gpt/big"]


def test_a_model_served_by_two_instances_has_two_lanes() -> None:
    assert keys("llama") == ["ollama/llama", "ollama2/llama"]


def test_aliases_span_tiers_and_accept_provider_model_pairs() -> None:
    assert keys("fast") == ["ollama/llama", "ollama2/llama", "gpt/mini"]
    assert keys("smart") == ["claude/sonnet", "gpt/big"]


def test_tools_and_images_filter_by_capability() -> None:
    assert keys("auto", tools=(WEATHER,)) == ["vllm/qwen", "gpt/mini", "claude/sonnet", "gpt/big"]
    image = ChatRequest(model="auto", messages=(
        Message("user", (TextPart("what"), ImagePart(media_type="image/png", data="AA=="))),))
    assert [lane.key for lane in CATALOG.chat_plan(image, pins=Pins(), caller=Caller())] == [
        "claude/sonnet", "gpt/big"]


def test_prompts_over_ninety_percent_of_the_window_are_filtered() -> None:
    assert "ollama/llama" in keys("auto", system=(TextPart("x" * 3500),))  # ~875 tokens < 900
    assert "ollama/llama" not in keys("auto", system=(TextPart("x" * 3700),))  # ~925 tokens > 900


def test_pins_are_hard_filters() -> None:
    assert keys("auto", pins=Pins(tier="direct")) == ["ollama2/llama"]
    assert keys("auto", pins=Pins(provider="gpt")) == ["gpt/mini", "gpt/big"]
    assert keys("auto", pins=Pins(model="claude/sonnet")) == ["claude/sonnet"]


def caller_with(*, allow: list[str], deny: list[str] = []) -> Caller:  # noqa: B006 - read only
    policy = PolicyData.from_document("p", rules=[{"path": p, "actions": ["execute"]} for p in allow],
                                      deny=[{"path": p, "actions": ["execute"]} for p in deny])
    return Caller(key_id="k", principal="svc", policies=(policy,))


def test_rbac_denied_tiers_remove_lanes() -> None:
    caller = caller_with(allow=["models/*"], deny=["models/cloud/*", "models/frontier/*"])
    assert keys("auto", caller=caller) == ["ollama/llama", "ollama2/llama", "vllm/qwen"]


def test_rbac_can_bar_one_provider_by_segment() -> None:
    caller = caller_with(allow=["models/*"], deny=["models/+/ollama2/*"])
    assert "ollama2/llama" not in keys("auto", caller=caller)
    assert "ollama/llama" in keys("auto", caller=caller)


def test_a_caller_barred_from_every_lane_is_forbidden_not_a_bad_request() -> None:
    with pytest.raises(ProxyError) as raised:
        keys("llama", caller=caller_with(allow=["models/frontier/*"]))
    assert raised.value.kind is ErrorKind.FORBIDDEN


def test_a_caller_with_no_policies_may_use_nothing() -> None:
    with pytest.raises(ProxyError) as raised:
        keys("auto", caller=Caller(key_id="k", principal="nobody", policies=()))
    assert raised.value.kind is ErrorKind.FORBIDDEN


def test_unknown_model_and_no_candidate_are_distinct_errors() -> None:
    with pytest.raises(ProxyError) as unknown:
        keys("gpt-9")
    with pytest.raises(ProxyError) as none:
        keys("llama", tools=(WEATHER,))
    assert unknown.value.kind is ErrorKind.UNKNOWN_MODEL and "gpt-9" in unknown.value.message
    assert none.value.kind is ErrorKind.NO_CANDIDATE and "ollama/llama lacks tools" in none.value.message


def test_an_alias_naming_nothing_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="names no declared model"):
        Catalog([CATALOG.lanes[0].provider], {"bad": ["nope"]})
