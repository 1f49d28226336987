"""LLM transformations: the instruction goes over HTTP to the real proxy (served on loopback), which asks a fake
OpenAI provider or the bundled SmolLM2; the answer becomes the child's payload only if it fits the action's schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from pytest_httpserver import HTTPServer

from apps.chains.expressions import ExpressionError
from apps.chains.expressions_llm import llm_transform, proxy_base_url
from apps.chains.models import Chain, RunStatus, TaskRun
from apps.runners.models import Function
from proxy.config import BreakerSettings, ProxySettings, proxy_settings_build
from proxy.local_model import MODEL_ID, ServerOptions, local_model_find, local_model_start
from proxy.runtime import runtime_configure
from tests.apps.jobs import drive, link, principal_with, run_create
from tests.proxy.conftest import FAST, model_spec, provider_spec
from tests.proxy.fakes.openai import FakeOpenAI
from tests.proxy.fakes.script import Fail, Reply
from tests.proxy.fakes.server import serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry"),
              pytest.mark.timeout(120)]

INSTRUCTION = "Write a log message saying which service is down, at level error."


@pytest.fixture
def llm_key(transactional_db: None, config: Callable[[str, Any], None]) -> Iterator[str]:
    """A real API key of an operator, committed (the proxy verifies it from its own thread), used by chains.

    The test's queue is deleted afterwards: committed runs publish their messages to the real broker.
    """
    from kombu import Connection

    from apps.rbac.services import api_key_create

    _, raw = api_key_create(principal=principal_with("chains-llm", "operator"), name="chains")
    config("chains.llm.api_key", raw)
    yield raw
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.queue_delete(settings.CONFIG["chains.queue"])


@pytest.fixture
def fake_model(llm_key: str, config: Callable[[str, Any], None]) -> Iterator[FakeOpenAI]:
    """The proxy on loopback in front of one fake OpenAI model, `gpt-x` (json capable)."""
    fake = FakeOpenAI(api_key="sk-openai")
    with serving(fake) as upstream:
        catalog = ProxySettings(
            providers=(provider_spec("openai", "openai", upstream.url + "/v1", model_spec("gpt-x", "json")),),
            credentials={"openai": "sk-openai"}, deadlines=FAST,
            breaker=BreakerSettings(store="memory", failure_threshold=100, window_seconds=60, cooldown_seconds=1))
        with proxy_serving(catalog) as url:
            config("chains.llm.url", url)
            config("chains.llm.model", "gpt-x")
            yield fake


@contextmanager
def proxy_serving(catalog: ProxySettings) -> Iterator[str]:
    """The real proxy application on loopback with `catalog` as its settings; its URL."""
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from proxy.asgi import application

    runtime_configure(catalog)
    with serving(application, http="httptools") as proxy:
        try:
            yield proxy.url
        finally:
            runtime_configure(None)  # closes the runtime on the proxy's loop, while it still runs
    # The proxy verified the API key through database_sync_to_async, whose one thread keeps its connection
    # (CONN_MAX_AGE); closed here so the test database can be dropped at the end of the session.
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


def alert_chain(instruction: str = INSTRUCTION) -> tuple[Chain, TaskRun]:
    """echo -> log with an LLM transformation, and a queued root run of echo."""
    chain = Chain.objects.create(name="alerts")
    link(chain, "core.basic.echo", "core.basic.log", transformation=instruction, transformation_kind="llm")
    return chain, run_create("core.basic.echo", {"data": {"service": "db", "status": "down"}}, chain=chain)


def test_the_models_json_becomes_the_childs_payload(fake_model: FakeOpenAI) -> None:
    fake_model.queue("gpt-x", Reply(text='{"message": "db is down", "level": "error"}'))
    _, root = alert_chain()

    assert drive() == ["succeeded", "succeeded"]

    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.SUCCEEDED and child.payload == {"message": "db is down", "level": "error"}
    assert child.result == {"message": "db is down", "level": "error"}
    sent = fake_model.requests[-1].body
    assert sent["response_format"]["json_schema"]["schema"] == Function.objects.get(
        qualified_name="core.basic.log").input_schema
    assert sent["temperature"] == 0
    instruction, data = sent["messages"][-1]["content"].split("\n\nData:\n")
    assert instruction == f"Instruction:\n{INSTRUCTION}"
    assert json.loads(data) == {"result": {"service": "db", "status": "down"},
                                "payload": {"data": {"service": "db", "status": "down"}}, "index": 0}


@pytest.mark.parametrize(("answer", "expected"), [
    ("The db service is down.", "did not answer with JSON"),
    ('["db", "down"]', "not an object"),
    ('{"level": "error"}', "message"),
    ('{"message": "db down", "level": "panic"}', "level"),
    ('{"message": "db down", "colour": "red"}', "colour"),
])
def test_an_answer_that_does_not_fit_the_actions_input_fails_the_child(fake_model: FakeOpenAI, answer: str,
                                                                       expected: str) -> None:
    fake_model.queue("gpt-x", Reply(text=answer))
    _, root = alert_chain()

    assert drive() == ["succeeded"]

    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.FAILED and child.error is not None
    assert child.error["code"] == "transformation_error" and expected in child.error["message"]
    assert child.attempts == 0, "the action never ran"


def test_an_answer_cut_off_at_max_tokens_fails_the_child(fake_model: FakeOpenAI) -> None:
    fake_model.queue("gpt-x", Reply(text='{"message": "db is', stop="length"))
    _, root = alert_chain()
    drive()
    child = TaskRun.objects.get(parent=root)
    assert child.error is not None and child.error["code"] == "transformation_error"
    assert "max_tokens" in child.error["message"]


def test_a_provider_failure_fails_the_child_with_the_proxys_reason(fake_model: FakeOpenAI) -> None:
    fake_model.queue("gpt-x", Fail("content_policy"))
    _, root = alert_chain()
    drive()
    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.FAILED and child.error is not None
    assert child.error["code"] == "transformation_error" and "answered 4" in child.error["message"]


def test_a_revoked_key_is_refused_by_the_proxy(fake_model: FakeOpenAI, config: Callable[[str, Any], None]) -> None:
    config("chains.llm.api_key", "lgn_nosuchkey_0123456789abcdefghijklmnopqrstuv")
    _, root = alert_chain()
    drive()
    child = TaskRun.objects.get(parent=root)
    assert child.error is not None and child.error["code"] == "transformation_error"
    assert "answered 401" in child.error["message"]
    assert fake_model.requests == []


def test_a_step_needing_too_many_llm_calls_fails_before_calling(fake_model: FakeOpenAI,
                                                                config: Callable[[str, Any], None]) -> None:
    config("chains.llm.max_calls_per_step", 2)
    chain = Chain.objects.create(name="many")
    link(chain, "core.basic.split", "core.basic.log", transformation=INSTRUCTION, transformation_kind="llm")
    root = run_create("core.basic.split", {"items": [1, 2, 3]}, chain=chain)

    assert drive() == ["failed"]

    root.refresh_from_db()
    assert root.error is not None and root.error["code"] == "fanout_limit"
    assert fake_model.requests == []


def test_an_unreachable_proxy_fails_the_child(llm_key: str, config: Callable[[str, Any], None]) -> None:
    from tests.support import free_port

    config("chains.llm.url", f"http://127.0.0.1:{free_port()}")
    _, root = alert_chain()
    drive()
    child = TaskRun.objects.get(parent=root)
    assert child.error is not None and child.error["code"] == "transformation_error"
    assert "could not be reached" in child.error["message"]


def test_the_key_and_model_are_sent_as_an_openai_client_would(config: Callable[[str, Any], None]) -> None:
    with HTTPServer(host="127.0.0.1") as server:
        server.expect_request("/v1/chat/completions", method="POST",
                              headers={"Authorization": "Bearer lgn_example"}).respond_with_json(
            {"choices": [{"message": {"content": '{"seconds": 1}'}, "finish_reason": "stop"}]})
        config("chains.llm.url", server.url_for("/v1"))
        config("chains.llm.api_key", "lgn_example")
        config("chains.llm.model", "fast")
        payload = llm_transform(instruction="wait a second", variables={"result": {}, "payload": {}, "index": 0},
                                schema={"type": "object", "properties": {"seconds": {"type": "number"}}})
        (request, _), = server.log
    assert payload == {"seconds": 1}
    assert json.loads(request.data)["model"] == "fast"


def test_the_proxy_address_defaults_to_where_the_mode_serves_it(config: Callable[[str, Any], None]) -> None:
    config("chains.llm.url", None)
    config("mode", "full")
    config("proxy.host", "0.0.0.0")
    config("proxy.port", 8100)
    assert proxy_base_url() == "http://127.0.0.1:8100"
    config("mode", "lite")
    config("web.port", 8000)
    assert proxy_base_url() == f"http://{settings.CONFIG['web.host']}:8000"


def test_an_llm_error_is_an_expression_error_without_a_position(config: Callable[[str, Any], None]) -> None:
    from tests.support import free_port

    config("chains.llm.url", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ExpressionError) as caught:
        llm_transform(instruction="x", variables={}, schema={"type": "object"})
    assert caught.value.line is None


@pytest.fixture(scope="module")
def local_model_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    discovery = local_model_find()
    if discovery.installation is None:
        pytest.skip(f"the local model is not installed: {discovery.reason}")
    options = ServerOptions(ctx_size=2048, threads=2, startup_timeout=60)
    with local_model_start(discovery.installation, options, log_path=tmp_path_factory.mktemp("llama") / "log") as llama:
        yield llama.url


@pytest.fixture
def local_model(llm_key: str, local_model_url: str, config: Callable[[str, Any], None]) -> Iterator[None]:
    """The proxy on loopback with the bundled SmolLM2 as its local tier."""
    catalog = proxy_settings_build({"mode": "full", "proxy.local_model.url": local_model_url,
                                    "proxy.local_model.ctx_size": 2048})
    with proxy_serving(catalog) as url:
        config("chains.llm.url", url)
        config("chains.llm.model", MODEL_ID)
        config("chains.llm.max_tokens", 200)
        yield


def test_the_local_model_writes_a_payload_that_fits_the_action(local_model: None) -> None:
    # SmolLM2-135M is tiny: an instruction that names the field and its value keeps the greedy answer short.
    # Open-ended ones ("Say that the service is down.") can make it ramble until max_tokens on some builds of
    # llama.cpp, which the transformation rightly reports as cut off.
    _, root = alert_chain("Set message to the status.")

    outcomes = drive()

    child = TaskRun.objects.get(parent=root)
    assert outcomes == ["succeeded", "succeeded"], child.error
    assert set(child.payload) <= {"message", "level"} and isinstance(child.payload["message"], str)
    assert child.payload.get("level", "info") in ("debug", "info", "warning", "error")
