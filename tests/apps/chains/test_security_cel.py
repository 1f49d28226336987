"""Hostile CEL: refused on save naming the limit, or failing its run cleanly; never a crash, a freeze or a 500.

Every source here broke Legion before `chains.cel.*`: the long chain killed the process that compiled it
(SIGSEGV in the Rust parser), the nested comprehensions held the GIL for seconds, and IndexError or
OverflowError escaped as a 500 or left the trigger run in `running`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from apps.chains import expressions
from apps.chains.models import Chain, RunStatus, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import chain_create
from apps.core.errors import ApplicationError
from apps.core.signatures import signature_headers
from apps.webhooks.services import webhook_create
from tests.apps.jobs import api_for, drive, function, link, run_create
from tests.apps.processes import LegionProcess
from tests.support import free_port

pytestmark = pytest.mark.usefixtures("registry")

ONES = "[" + ",".join(["1"] * 1000) + "]"
# A million evaluations of the inner body from 4,030 characters: seconds of CPU on one sample.
SLOW_ON_ANY_DATA = f"{ONES}.all(a, {ONES}.all(b, a + b > 0))"


@pytest.fixture
def chain() -> Chain:
    return chain_create(name="hostile")


@pytest.fixture(autouse=True)
def fresh_compiles() -> None:
    # Compiled sources are cached per process, limits included: each test sees its own settings.
    expressions._compiled.cache_clear()


def test_a_120_kb_condition_is_refused_by_the_api_before_it_is_compiled(operator: Any) -> None:
    api = api_for(operator)
    api.post("/api/v1/chains/chains/", {"name": "big"}, format="json")
    response = api.post("/api/v1/chains/relationships/", {
        "chain": "big", "trigger": "core.basic.log", "action": "core.basic.echo",
        "condition": " + ".join(["1"] * 30_000) + " > 0",
    }, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "invalid_condition"
    assert "chains.cel.max_length" in response.json()["error"]["message"]


@pytest.mark.parametrize(("condition", "limit"), [
    ("(" * 40 + "result.level == 'info'" + ")" * 40, "chains.cel.max_nesting"),
    (" + ".join(["1"] * 600) + " > 0", "chains.cel.max_operators"),
    ("result.message.size() > 0 && " + "!" * 600 + "true", "chains.cel.max_operators"),
    ("[1].all(a, [1].all(b, [1].all(c, a + b + c > 0)))", "chains.cel.max_comprehension_nesting"),
])
def test_a_source_over_a_shape_limit_is_refused_on_save_naming_the_limit(
    chain: Chain, condition: str, limit: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        link(chain, "core.basic.log", "core.basic.echo", condition=condition)
    assert refused.value.code == "invalid_condition"
    assert limit in refused.value.message


def test_a_source_that_is_slow_on_its_sample_is_refused_on_save_within_the_budget(
    chain: Chain, config: Callable[[str, Any], None]
) -> None:
    config("chains.cel.timeout_ms", 30)  # far below the million evaluations on any CPU
    started = time.monotonic()
    with pytest.raises(ApplicationError) as refused:
        link(chain, "core.basic.log", "core.basic.echo", condition=SLOW_ON_ANY_DATA)
    assert time.monotonic() - started < 10
    assert refused.value.code == "invalid_condition"
    assert "chains.cel.timeout_ms" in refused.value.message


@pytest.mark.parametrize(("field", "source", "code"), [
    ("condition", "result.items[5] > 0", "condition_error"),  # IndexError
    ("condition", "result.items[0] + 9223372036854775807 > 0", "condition_error"),  # OverflowError
    ("condition", "uint(result.items[0] - 2) > 0u", "condition_error"),  # OverflowError in a conversion
    ("transformation", '{"data": {"v": result.items[7]}}', "transformation_error"),  # IndexError
])
def test_a_runtime_error_fails_the_child_and_the_trigger_still_succeeds(
    chain: Chain, field: str, source: str, code: str
) -> None:
    link(chain, "core.basic.echo", "core.basic.echo", **{field: source})
    root = run_create("core.basic.echo", {"data": {"items": [1, 2]}}, chain=chain)
    assert drive() == ["succeeded"]
    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.FAILED
    assert child.error["code"] == code
    assert not TaskRun.objects.filter(status=RunStatus.RUNNING).exists()


def test_a_slow_evaluation_fails_its_child_within_the_budget_and_the_evaluator_is_replaced(
    chain: Chain, config: Callable[[str, Any], None]
) -> None:
    config("chains.cel.timeout_ms", 300)
    link(chain, "core.basic.echo", "core.basic.echo",
         condition="result.items.all(a, result.items.all(b, a + b >= 0))")
    root = run_create("core.basic.echo", {"data": {"items": list(range(2000))}}, chain=chain)
    started = time.monotonic()
    assert drive() == ["succeeded"]
    assert time.monotonic() - started < 10
    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.FAILED and child.error["code"] == "condition_error"
    assert "chains.cel.timeout_ms" in child.error["message"]
    # The killed evaluator's successor answers the next evaluation.
    assert expressions.expression_evaluate("result.items.exists(a, a == 3)", {"result": {"items": [3]}}) is True


def test_an_evaluation_over_its_memory_budget_fails_its_child(
    chain: Chain, config: Callable[[str, Any], None]
) -> None:
    config("chains.cel.memory_mb", 256)
    config("chains.cel.timeout_ms", 10_000)
    fifty = "[" + ",".join(["1"] * 50) + "]"
    # 2,500 strings of 200 KB: half a gigabyte.
    link(chain, "core.basic.echo", "core.basic.echo",
         condition=f"size({fifty}.map(a, {fifty}.map(b, result.text + result.text))) > 0")
    root = run_create("core.basic.echo", {"data": {"text": "x" * 100_000}}, chain=chain)
    assert drive() == ["succeeded"]
    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.FAILED and child.error["code"] == "condition_error"
    assert "chains.cel.memory_mb" in child.error["message"]


def test_a_cheap_condition_on_small_data_is_evaluated_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("sent to an evaluator process")

    monkeypatch.setattr(expressions, "sandbox_execute", refuse)
    assert expressions.expression_evaluate("result.status == 200 && size(result.tags) > 0",
                                           {"result": {"status": 200, "tags": ["a"]}, "payload": {}}) is True


def _webhook(run_as: Any, transformation: str) -> str:
    """A webhook `deploys` of core.basic.log; returns its secret."""
    return webhook_create(by=HOST, name="deploys", function=function("core.basic.log"), run_as=run_as,
                          transformation=transformation)[1]


def _signed(secret: str, payload: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, signature_headers(secret=secret, body=body)


def test_a_webhook_transformation_error_is_a_422_naming_the_transformation(operator: Any) -> None:
    secret = _webhook(operator, '{"message": string(body.items[3])}')
    body, headers = _signed(secret, {"items": [1]})
    extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()}
    response = APIClient().post("/api/v1/chains/hooks/deploys/", data=body, content_type="application/json", **extra)
    assert response.status_code == 422, response.json()
    assert response.json()["error"]["code"] == "transformation_error"
    assert response.json()["error"]["field"] == "transformation"
    assert not TaskRun.objects.exists()


def test_a_webhook_comprehension_runs_in_an_evaluator_and_answers_422_past_its_budget(
    operator: Any, config: Callable[[str, Any], None]
) -> None:
    config("chains.cel.timeout_ms", 300)
    secret = _webhook(operator, '{"message": string(body.items.all(a, body.items.all(b, a + b >= 0)))}')
    body, headers = _signed(secret, {"items": list(range(3000))})  # 9 million evaluations
    extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()}
    started = time.monotonic()
    response = APIClient().post("/api/v1/chains/hooks/deploys/", data=body, content_type="application/json", **extra)
    assert time.monotonic() - started < 10
    assert response.status_code == 422, response.json()
    assert "chains.cel.timeout_ms" in response.json()["error"]["message"]


@pytest.mark.usefixtures("transactional_db")
def test_a_hostile_webhook_transformation_leaves_healthz_answering_on_the_same_process(operator: Any) -> None:
    # Each `+` copies what the ones before it built: 4 GB of copying from a 200 KB body, seconds of CPU.
    secret = _webhook(operator, '{"message": string(size(' + " + ".join(["body.text"] * 200) + "))}")
    port = free_port()
    web = LegionProcess("web", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        web.wait_for("Uvicorn running on")
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200  # the first request pays for imports
        body, headers = _signed(secret, {"text": "x" * 200_000})
        answered: list[httpx.Response] = []
        hook = threading.Thread(target=lambda: answered.append(
            httpx.post(f"{base}/api/v1/chains/hooks/deploys/", content=body,
                       headers={**headers, "Content-Type": "application/json"}, timeout=30)))
        hook.start()
        latencies = []
        while hook.is_alive() and len(latencies) < 200:
            started = time.monotonic()
            assert httpx.get(f"{base}/healthz", timeout=3).status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.02)
        hook.join(timeout=30)
        assert answered and answered[0].status_code == 422, answered and answered[0].text
        assert "chains.cel.timeout_ms" in answered[0].json()["error"]["message"]
        # Held by the evaluation, the process would not answer for seconds; 2 shared cores make 1 s generous.
        assert len(latencies) >= 3 and max(latencies) < 1.0, latencies
    finally:
        web.stop()
