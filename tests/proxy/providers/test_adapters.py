"""Every provider adapter against a faithful fake of its provider's wire format, over real loopback HTTP."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from proxy.errors import ErrorKind, ProxyError
from proxy.providers import provider_build
from proxy.providers.base import Provider
from proxy.types import (
    EmbedRequest,
    ProviderEvent,
    StopReason,
    StreamEnd,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolUsePart,
)
from tests.proxy.conftest import FAST, WEATHER, chat, model_spec, provider_spec
from tests.proxy.fakes.anthropic import FakeAnthropic
from tests.proxy.fakes.ollama import FakeOllama
from tests.proxy.fakes.openai import FakeOpenAI
from tests.proxy.fakes.script import Die, Fail, FakeProvider, Reply, StreamFail
from tests.proxy.fakes.server import serving

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


@dataclass
class Case:
    kind: str
    fake: FakeProvider
    path: str  # appended to the server URL to form base_url
    api_key: str | None
    thinks: bool  # whether the wire format carries thinking


CASES = {
    "openai": lambda: Case("openai", FakeOpenAI(api_key="sk-o"), "/v1", "sk-o", False),
    "vllm": lambda: Case("openai_compatible", FakeOpenAI(flavour="vllm"), "/v1", None, True),
    "llamacpp": lambda: Case("openai_compatible", FakeOpenAI(flavour="llamacpp"), "/v1", None, True),
    "anthropic": lambda: Case("anthropic", FakeAnthropic(api_key="sk-a"), "", "sk-a", True),
    "ollama": lambda: Case("ollama", FakeOllama(), "", None, True),
}


@dataclass
class Served:
    case: Case
    provider: Provider


@pytest.fixture(params=sorted(CASES))
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    case = CASES[request.param]()
    with serving(case.fake) as server:
        spec = provider_spec("p", case.kind, server.url + case.path,
                             model_spec("m", "tools", "thinking", "embeddings", context_window=8192))
        yield Served(case, provider_build(spec, api_key=case.api_key, deadlines=FAST))


async def collect(events: AsyncIterator[ProviderEvent]) -> list[ProviderEvent]:
    return [event async for event in events]


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_complete_returns_text_and_reported_usage(served: Served) -> None:
    served.case.fake.queue("m", Reply("It is sunny.", input_tokens=21, output_tokens=4))
    response = await served.provider.complete(chat(), served.provider.spec.models[0])
    assert response.text == "It is sunny."
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.reported) == (21, 4, True)
    assert response.stop_reason is StopReason.END


async def test_stream_yields_deltas_then_one_end_with_usage(served: Served) -> None:
    served.case.fake.queue("m", Reply("one two three four", input_tokens=9, output_tokens=4))
    events = await collect(served.provider.stream(chat(), served.provider.spec.models[0]))
    assert text_of(events) == "one two three four"
    assert sum(isinstance(e, TextDelta) for e in events) == 4
    assert isinstance(events[-1], StreamEnd) and sum(isinstance(e, StreamEnd) for e in events) == 1
    assert events[-1].usage is not None and events[-1].usage.output_tokens == 4


async def test_stream_carries_tool_calls_and_their_arguments(served: Served) -> None:
    served.case.fake.queue("m", Reply("", tool_calls=[("get_weather", {"city": "Paris"})]))
    events = await collect(served.provider.stream(chat(tools=(WEATHER,)), served.provider.spec.models[0]))
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert {d.name for d in deltas if d.name} == {"get_weather"}
    assert json.loads("".join(d.arguments for d in deltas)) == {"city": "Paris"}
    assert isinstance(events[-1], StreamEnd) and events[-1].stop_reason is StopReason.TOOL_USE
    sent = served.case.fake.requests[-1].body
    assert "get_weather" in json.dumps(sent["tools"])


async def test_complete_returns_tool_use_with_decoded_input(served: Served) -> None:
    served.case.fake.queue("m", Reply("", tool_calls=[("get_weather", {"city": "Oslo"})]))
    response = await served.provider.complete(chat(tools=(WEATHER,)), served.provider.spec.models[0])
    calls = [p for p in response.content if isinstance(p, ToolUsePart)]
    assert [(c.name, dict(c.input)) for c in calls] == [("get_weather", {"city": "Oslo"})]
    assert calls[0].id
    assert response.stop_reason is StopReason.TOOL_USE


async def test_thinking_arrives_as_thinking(served: Served) -> None:
    if not served.case.thinks:
        pytest.skip("OpenAI's chat completions API does not stream reasoning text")
    served.case.fake.queue("m", Reply("Answer.", thinking="Let me see."), Reply("Answer.", thinking="Hmm."))
    events = await collect(served.provider.stream(chat(thinking_budget=2048), served.provider.spec.models[0]))
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "Let me see."
    response = await served.provider.complete(chat(thinking_budget=2048), served.provider.spec.models[0])
    assert [p.text for p in response.content if isinstance(p, ThinkingPart)] == ["Hmm."]


ERROR_KINDS = {
    "rate_limit": ErrorKind.RATE_LIMITED, "overloaded": ErrorKind.OVERLOADED, "server": ErrorKind.SERVER,
    "context_length": ErrorKind.CONTEXT_LENGTH, "content_policy": ErrorKind.CONTENT_POLICY,
    "auth": ErrorKind.PROVIDER_AUTH, "invalid": ErrorKind.INVALID_REQUEST, "not_found": ErrorKind.MODEL_MISSING,
}


@pytest.mark.parametrize("fail", sorted(ERROR_KINDS))
async def test_error_responses_map_to_the_taxonomy(served: Served, fail: str) -> None:
    if served.case.kind == "openai_compatible" and fail == "content_policy":
        pytest.skip("vLLM and llama-server have no content-policy error")
    served.case.fake.queue("m", Fail(fail), Fail(fail))
    model = served.provider.spec.models[0]
    with pytest.raises(ProxyError) as raised:
        await served.provider.complete(chat(), model)
    assert raised.value.kind is ERROR_KINDS[fail]
    with pytest.raises(ProxyError) as streamed:
        await collect(served.provider.stream(chat(), model))
    assert streamed.value.kind is ERROR_KINDS[fail]
    assert streamed.value.provider == "p"


async def test_rate_limit_carries_retry_after(served: Served) -> None:
    served.case.fake.queue("m", Fail("rate_limit", retry_after=7))
    with pytest.raises(ProxyError) as raised:
        await served.provider.complete(chat(), served.provider.spec.models[0])
    assert raised.value.kind is ErrorKind.RATE_LIMITED and raised.value.retryable
    assert raised.value.retry_after == 7


async def test_connection_dropped_mid_stream_is_a_broken_stream(served: Served) -> None:
    served.case.fake.queue("m", Die(after=3, reply=Reply("a b c d e f g")))
    seen: list[ProviderEvent] = []
    with pytest.raises(ProxyError) as raised:
        async for event in served.provider.stream(chat(), served.provider.spec.models[0]):
            seen.append(event)
    assert raised.value.kind is ErrorKind.STREAM_BROKEN
    assert not any(isinstance(e, StreamEnd) for e in seen)


async def test_error_event_mid_stream_raises_and_is_retryable(served: Served) -> None:
    served.case.fake.queue("m", StreamFail(after=3, reply=Reply("a b c d e f g")))
    with pytest.raises(ProxyError) as raised:
        await collect(served.provider.stream(chat(), served.provider.spec.models[0]))
    assert raised.value.retryable


async def test_bad_credentials_are_a_provider_auth_error() -> None:
    fake = FakeAnthropic(api_key="right")
    with serving(fake) as server:
        provider = provider_build(provider_spec("a", "anthropic", server.url, model_spec("m")), api_key="wrong",
                                  deadlines=FAST)
        with pytest.raises(ProxyError) as raised:
            await provider.complete(chat(), provider.spec.models[0])
        await provider.aclose()
    assert raised.value.kind is ErrorKind.PROVIDER_AUTH


async def test_unreachable_provider_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = provider_build(provider_spec("gone", "ollama", f"http://127.0.0.1:{port}", model_spec("m")),
                              api_key=None, deadlines=FAST)
    with pytest.raises(ProxyError) as raised:
        await collect(provider.stream(chat(), provider.spec.models[0]))
    assert raised.value.kind is ErrorKind.CONNECT and raised.value.retryable


async def test_embeddings_return_one_vector_per_input(served: Served) -> None:
    if served.case.kind == "anthropic":
        pytest.skip("Anthropic serves no embeddings")
    result = await served.provider.embed(EmbedRequest("m", ("abc", "hello")), served.provider.spec.models[0])
    assert [v[0] for v in result.vectors] == [3.0, 5.0]
    assert result.usage.reported


async def test_anthropic_count_tokens_is_forwarded() -> None:
    fake = FakeAnthropic()
    with serving(fake) as server:
        provider = provider_build(provider_spec("a", "anthropic", server.url, model_spec("m")), api_key=None,
                                  deadlines=FAST)
        tokens = await provider.count_tokens(chat("hello"), provider.spec.models[0])
    sent = fake.requests[-1].body["messages"]
    assert tokens == 1000 + len(json.dumps(sent))


def _request_body(fake: FakeProvider) -> dict[str, Any]:
    body: dict[str, Any] = fake.requests[-1].body
    return body


async def test_anthropic_request_carries_system_limits_and_version() -> None:
    fake = FakeAnthropic()
    with serving(fake) as server:
        provider = provider_build(provider_spec("a", "anthropic", server.url, model_spec("m", max_output=500)),
                                  api_key=None, deadlines=FAST)
        request = chat(system=(TextPart("Be brief."),), max_tokens=9000, stop=("END",))
        await provider.complete(request, provider.spec.models[0])
    body, headers = _request_body(fake), fake.requests[-1].headers
    assert body["system"] == "Be brief." and body["max_tokens"] == 500 and body["stop_sequences"] == ["END"]
    assert headers["anthropic-version"] == "2023-06-01"


async def test_ollama_request_uses_native_options() -> None:
    fake = FakeOllama()
    with serving(fake) as server:
        provider = provider_build(provider_spec("o", "ollama", server.url, model_spec("m", upstream="llama3:8b")),
                                  api_key=None, deadlines=FAST)
        await provider.complete(chat(max_tokens=64, temperature=0.0, stop=("x",)), provider.spec.models[0])
    body = _request_body(fake)
    assert body["model"] == "llama3:8b" and body["stream"] is False
    assert body["options"] == {"num_predict": 64, "temperature": 0.0, "stop": ["x"]}
