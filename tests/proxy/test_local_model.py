"""The bundled local model: found on disk, started on loopback, and served as the `local` tier through the proxy.

Uses the real llama-server and SmolLM2-135M at temperature 0, checking protocol and shape, never wording.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from proxy.config import proxy_settings_build
from proxy.local_model import (
    CAPABILITIES,
    MODEL_ID,
    PROVIDER_NAME,
    Discovery,
    Installation,
    LocalModelError,
    LocalModelServer,
    ServerOptions,
    installation_check,
    local_model_find,
    local_model_launch,
    local_model_start,
)
from proxy.runtime import runtime_configure
from tests.proxy.conftest import TEST_KEY
from tests.proxy.fakes.server import LoopbackServer, serving
from tests.support import ROOT, wait_until

pytestmark = pytest.mark.timeout(120)

CTX_SIZE = 2048
OPTIONS = ServerOptions(ctx_size=CTX_SIZE, threads=2, startup_timeout=30)
ASK = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def installation() -> Installation:
    discovery = local_model_find()
    if discovery.installation is None:
        pytest.skip(f"the local model is not installed: {discovery.reason}")
    return discovery.installation


@pytest.fixture(scope="module")
def llama(installation: Installation, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalModelServer]:
    with local_model_start(installation, OPTIONS, log_path=tmp_path_factory.mktemp("llama") / "log") as server:
        yield server


@dataclass
class LocalProxy:
    proxy: LoopbackServer

    def openai_client(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.proxy.url}/v1", api_key=TEST_KEY, max_retries=0, timeout=60)

    def anthropic_client(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(base_url=self.proxy.url, api_key=TEST_KEY, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def local_proxy(llama: LocalModelServer, proxy_keys: None) -> Iterator[LocalProxy]:
    """The proxy served over loopback with the catalog a supervisor gives it: the local model's address."""
    from proxy.asgi import application

    runtime_configure(proxy_settings_build({"mode": "lite", "proxy.local_model.url": llama.url,
                                            "proxy.local_model.ctx_size": CTX_SIZE}))
    with serving(application, http="httptools") as proxy:
        try:
            yield LocalProxy(proxy)
        finally:
            runtime_configure(None)  # closes the runtime's clients on the proxy's loop, while it still runs


def test_installed_packages_provide_the_server_and_the_gguf(installation: Installation) -> None:
    assert installation.binary.name == "llama-server" and installation.binary.is_file()
    assert installation.gguf.suffix == ".gguf" and installation.gguf.stat().st_size > 10_000_000


def test_a_missing_binary_is_reported_with_its_path(installation: Installation) -> None:
    missing = Path("/nonexistent/llama-server")
    discovery = installation_check(binary=missing, gguf=installation.gguf)
    assert discovery.installation is None
    assert str(missing) in discovery.reason and "requirements/local-model.txt" in discovery.reason


def test_a_missing_gguf_is_reported_with_its_path(installation: Installation) -> None:
    missing = Path("/nonexistent/SmolLM2.gguf")
    discovery = installation_check(binary=installation.binary, gguf=missing)
    assert discovery.installation is None
    assert str(missing) in discovery.reason and "requirements/local-model.txt" in discovery.reason


def test_launch_without_an_installation_starts_nothing_and_says_how_to_install(tmp_path: Path) -> None:
    missing = installation_check(binary=Path("/nonexistent/llama-server"), gguf=Path("/nonexistent/m.gguf"))
    launch = local_model_launch({"proxy.local_model.enabled": True}, log_path=tmp_path / "log", discovery=missing)
    assert launch.server is None and launch.url is None
    assert launch.note.startswith("local tier absent") and "requirements/local-model.txt" in launch.note


def test_launch_starts_nothing_when_disabled_or_already_given(tmp_path: Path) -> None:
    never = Discovery(None, "must not be consulted")
    disabled = local_model_launch({"proxy.local_model.enabled": False}, log_path=tmp_path / "log", discovery=never)
    given = local_model_launch({"proxy.local_model.enabled": True, "proxy.local_model.url": "http://127.0.0.1:9/v1"},
                               log_path=tmp_path / "log", discovery=never)
    assert disabled.server is None and disabled.url is None
    assert given.server is None and given.url == "http://127.0.0.1:9/v1"


def test_the_server_address_becomes_a_free_local_provider() -> None:
    settings = proxy_settings_build({"proxy.local_model.url": "http://127.0.0.1:9/v1/",
                                     "proxy.local_model.ctx_size": 4096})
    (provider,) = settings.providers
    (model,) = provider.models
    assert (provider.name, provider.kind, provider.tier) == (PROVIDER_NAME, "openai_compatible", "local")
    assert provider.base_url == "http://127.0.0.1:9/v1"
    assert model.id == MODEL_ID and model.capabilities == frozenset(CAPABILITIES)
    assert (model.context_window, model.price_in, model.price_out) == (4096, 0.0, 0.0)
    assert proxy_settings_build({}).providers == ()


def test_start_on_a_taken_port_fails_fast_with_the_servers_reason(installation: Installation, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        options = ServerOptions(port=taken.getsockname()[1], ctx_size=CTX_SIZE, startup_timeout=30)
        started = time.monotonic()
        with pytest.raises(LocalModelError, match="exited"):
            local_model_start(installation, options, log_path=tmp_path / "log")
    assert time.monotonic() - started < 10


def test_server_starts_on_a_configured_port_and_stops_cleanly(installation: Installation, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = local_model_start(installation, ServerOptions(port=port, ctx_size=CTX_SIZE, startup_timeout=30),
                               log_path=tmp_path / "log")
    try:
        assert server.url == f"http://127.0.0.1:{port}/v1"
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        props = httpx.get(f"http://127.0.0.1:{port}/props", timeout=5).json()
        assert props["default_generation_settings"]["n_ctx"] == CTX_SIZE
    finally:
        code = server.stop()
    assert code == 0 and server.process.poll() == 0


SUPERVISOR = """
import sys, time
from pathlib import Path
from proxy.local_model import ServerOptions, local_model_find, local_model_start
installation = local_model_find().installation
server = local_model_start(installation, ServerOptions(startup_timeout=30), log_path=Path(sys.argv[1]))
print(server.port, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_server_does_not_outlive_a_killed_supervisor(installation: Installation, tmp_path: Path) -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path / "log")], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
    try:
        assert supervisor.stdout is not None
        health = f"http://127.0.0.1:{int(supervisor.stdout.readline())}/health"
        assert httpx.get(health, timeout=5).status_code == 200
    finally:
        supervisor.kill()
        supervisor.wait(timeout=10)

    def refused() -> bool:
        try:
            httpx.get(health, timeout=1)
        except httpx.TransportError:
            return True
        return False

    wait_until(refused, timeout=10, what="llama-server to stop serving after its supervisor was killed")


def test_openai_sdk_gets_a_whole_answer_from_the_local_tier(local_proxy: LocalProxy) -> None:
    raw = local_proxy.openai_client().chat.completions.with_raw_response.create(
        model=MODEL_ID, messages=ASK, temperature=0, max_tokens=16)
    completion = raw.parse()
    assert raw.headers["x-legion-tier"] == "local" and raw.headers["x-legion-provider"] == PROVIDER_NAME
    assert completion.model == MODEL_ID
    assert isinstance(completion.choices[0].message.content, str) and completion.choices[0].message.content
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert 0 < completion.usage.completion_tokens <= 16


def test_openai_sdk_streams_from_the_local_tier_with_usage(local_proxy: LocalProxy) -> None:
    chunks = list(local_proxy.openai_client().chat.completions.create(
        model=MODEL_ID, messages=ASK, temperature=0, max_tokens=8, stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert text and len(finishes) == 1 and finishes[0] in ("stop", "length")
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 8


def test_auto_routes_to_the_local_tier(local_proxy: LocalProxy) -> None:
    raw = local_proxy.openai_client().chat.completions.with_raw_response.create(
        model="auto", messages=ASK, temperature=0, max_tokens=4)
    assert raw.headers["x-legion-tier"] == "local" and raw.headers["x-legion-model"] == MODEL_ID


def test_json_schema_output_is_valid_json_from_the_local_tier(local_proxy: LocalProxy) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    completion = local_proxy.openai_client().chat.completions.create(
        model=MODEL_ID, temperature=0, max_tokens=48,
        messages=[{"role": "user", "content": "Which city is the capital of France? Answer in JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}})
    answer = json.loads(completion.choices[0].message.content or "")
    assert set(answer) == {"city"} and isinstance(answer["city"], str)


def test_anthropic_sdk_streams_a_full_event_sequence_from_the_local_tier(local_proxy: LocalProxy) -> None:
    # This SDK version has no `temperature` argument; the proxy still reads it from the body.
    events = list(local_proxy.anthropic_client().messages.create(model=MODEL_ID, max_tokens=16, messages=ASK,
                                                                 stream=True, extra_body={"temperature": 0}))
    kinds = [event.type for event in events]
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta")
    (delta,) = [e for e in events if e.type == "message_delta"]
    assert kinds[:2] == ["message_start", "content_block_start"] and kinds[-3:] == [
        "content_block_stop", "message_delta", "message_stop"]
    assert text and delta.delta.stop_reason in ("end_turn", "max_tokens") and delta.usage.output_tokens > 0


def test_models_list_the_local_model(local_proxy: LocalProxy) -> None:
    ids = [model.id for model in local_proxy.openai_client().models.list()]
    assert ids == [MODEL_ID, "auto"]


def test_llama_server_repeats_a_prefilled_turn_so_smollm2_is_not_declared_with_prefill(llama: LocalModelServer) -> None:
    # If a future llama-server answers only the continuation, `prefill` can join CAPABILITIES.
    prefill = "The capital of France is"
    response = httpx.post(f"{llama.url}/chat/completions", timeout=60, json={
        "model": MODEL_ID, "temperature": 0, "max_tokens": 4,
        "messages": [{"role": "user", "content": "What is the capital of France?"},
                     {"role": "assistant", "content": prefill}]})
    assert response.json()["choices"][0]["message"]["content"].startswith(prefill)
    assert "prefill" not in CAPABILITIES
