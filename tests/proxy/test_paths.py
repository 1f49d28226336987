"""Paths and odd requests: unknown /v1 paths, one model by id, counting without capabilities, clamped max_tokens."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import openai
import pytest

from legion_site.asgi import http_application
from proxy.config import ModelSpec
from tests.proxy.conftest import TEST_KEY, Stack, model_spec, provider_spec, stack_settings
from tests.proxy.fakes.server import serving

pytestmark = pytest.mark.timeout(60)

USER = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_ANTHROPIC = {"name": "get_weather", "description": "Weather for a city",
                     "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
OPENAI_CALLER = {"authorization": f"Bearer {TEST_KEY}"}
ANTHROPIC_CALLER = {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"}


def assert_openai_404(response: httpx.Response) -> None:
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["type"] == "not_found_error" and error["message"]


def assert_anthropic_404(response: httpx.Response) -> None:
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["type"] == "error" and payload["error"]["type"] == "not_found_error" and payload["error"]["message"]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PUT"])
@pytest.mark.parametrize("path", ["/v1/nope", "/v1/chat/completions/extra", "/v1", "/v1/responses/x/y"])
def test_unknown_paths_under_v1_are_a_404_in_the_callers_dialect(stack: Stack, method: str, path: str) -> None:
    assert_openai_404(httpx.request(method, f"{stack.url}{path}", headers=OPENAI_CALLER, timeout=10))
    assert_anthropic_404(httpx.request(method, f"{stack.url}{path}", headers=ANTHROPIC_CALLER, timeout=10))


def test_a_bare_x_api_key_is_answered_as_anthropic_and_a_bearer_as_openai(stack: Stack) -> None:
    assert_anthropic_404(httpx.get(f"{stack.url}/v1/nope", headers={"x-api-key": TEST_KEY}, timeout=10))
    assert_openai_404(httpx.get(f"{stack.url}/v1/nope", headers={"x-api-key": TEST_KEY, **OPENAI_CALLER}, timeout=10))
    assert_openai_404(httpx.get(f"{stack.url}/v1/nope", timeout=10))  # no credentials at all: not authenticated first


def test_lite_mode_answers_v1_paths_in_dialect_and_leaves_the_rest_to_django(stack: Stack) -> None:
    with serving(http_application(lite=True), http="httptools") as web:
        assert_openai_404(httpx.post(f"{web.url}/v1/nope", headers=OPENAI_CALLER, timeout=10))
        assert_anthropic_404(httpx.get(f"{web.url}/v1/models/no-such-model", headers=ANTHROPIC_CALLER, timeout=10))
        listed = httpx.get(f"{web.url}/v1/models", headers=OPENAI_CALLER, timeout=10)
        healthz = httpx.get(f"{web.url}/healthz", timeout=10)
    assert listed.status_code == 200 and listed.json()["object"] == "list"
    assert healthz.status_code == 200  # Django still serves everything outside /v1


def test_wrong_method_on_a_known_path_stays_405_in_dialect(stack: Stack) -> None:
    response = httpx.delete(f"{stack.url}/v1/messages", headers=ANTHROPIC_CALLER, timeout=10)
    assert response.status_code == 405 and response.json()["type"] == "error"


def test_a_model_is_retrieved_by_id_in_the_openai_shape(stack: Stack) -> None:
    stack.configure(providers=(*_providers(stack),
                               provider_spec("fleet-b", "openai_compatible", stack.urls["vllm"] + "/v1",
                                             model_spec("meta-llama/Llama-3:8b"))))
    client = stack.openai_client()
    for name in ("gpt-x", "smart", "auto", "openai/gpt-x", "meta-llama/Llama-3:8b", "fleet-b/meta-llama/Llama-3:8b"):
        model = client.models.retrieve(name)
        assert (model.id, model.object, model.owned_by) == (name, "model", "legion")
    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve("gpt-nope")
    assert raised.value.body["code"] == "not_found" and raised.value.body["param"] == "model"  # type: ignore[index]


def test_a_model_is_retrieved_by_id_in_the_anthropic_shape(stack: Stack) -> None:
    client = stack.anthropic_client()
    for name in ("claude-x", "anthropic/claude-x", "fast"):
        model = client.models.retrieve(name)
        assert (model.id, model.type, model.display_name) == (name, "model", name)
    with pytest.raises(anthropic.NotFoundError) as raised:
        client.models.retrieve("claude-nope")
    assert raised.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]


def test_count_tokens_needs_no_tool_capable_model_and_no_room_in_the_window(stack: Stack) -> None:
    stack.configure(providers=(provider_spec("ollama-local", "ollama", stack.urls["ollama"],
                                             model_spec("llama3", context_window=512)),), aliases={})
    client = stack.anthropic_client()
    with_tools = client.messages.with_raw_response.count_tokens(model="llama3", messages=USER,
                                                                tools=[WEATHER_ANTHROPIC])
    too_long = client.messages.count_tokens(model="auto", messages=[{"role": "user", "content": "word " * 4000}])
    assert 0 < with_tools.parse().input_tokens and with_tools.headers["x-legion-token-source"] == "estimated"
    assert too_long.input_tokens > 512


CLAMP_CASES = {
    # name: (path, caller headers, body without max_tokens, fake, upstream field)
    "openai": ("/v1/chat/completions", OPENAI_CALLER, {"model": "gpt-x", "messages": USER}, "openai",
               "max_completion_tokens"),
    "anthropic": ("/v1/messages", ANTHROPIC_CALLER, {"model": "claude-x", "messages": USER}, "anthropic",
                  "max_tokens"),
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("case", sorted(CLAMP_CASES))
def test_a_clamped_max_tokens_is_reported_in_a_header(stack: Stack, case: str, stream: bool) -> None:
    path, headers, body, fake_name, field = CLAMP_CASES[case]
    limit = _model(stack, body["model"]).max_output
    fake = getattr(stack, fake_name)
    clamped = _post(stack, path, headers, {**body, "max_tokens": limit * 10, "stream": stream})
    assert clamped.status_code == 200 and clamped.headers["x-legion-max-tokens-clamped"] == str(limit)
    assert fake.requests[-1].body[field] == limit
    within = _post(stack, path, headers, {**body, "max_tokens": limit // 2, "stream": stream})
    assert within.status_code == 200 and "x-legion-max-tokens-clamped" not in within.headers
    assert fake.requests[-1].body[field] == limit // 2


def _post(stack: Stack, path: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{stack.url}{path}", json=body, headers=headers, timeout=15)


def _providers(stack: Stack) -> tuple[Any, ...]:
    return tuple(stack_settings(stack.urls).providers)


def _model(stack: Stack, model_id: str) -> ModelSpec:
    return next(m for p in _providers(stack) for m in p.models if m.id == model_id)
