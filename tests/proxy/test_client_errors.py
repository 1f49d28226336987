"""What a client is told when nothing can answer: every refusal named, a newcomer pointed to providers, and
never an upstream's address (that goes to the log and the ledger)."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from proxy.config import ModelSpec
from tests.proxy.conftest import TEST_KEY, Stack, model_spec, provider_spec
from tests.proxy.fakes.script import Fail
from tests.support import wait_until

pytestmark = pytest.mark.timeout(60)

USER = [{"role": "user", "content": "hi"}]
REQUESTS = {
    "openai": ("/v1/chat/completions", {"authorization": f"Bearer {TEST_KEY}"}, {"model": "auto", "messages": USER}),
    "anthropic": ("/v1/messages", {"x-api-key": TEST_KEY, "anthropic-version": "2023-06-01"},
                  {"model": "auto", "max_tokens": 10, "messages": USER}),
}


def post(stack: Stack, dialect: str, **fields: Any) -> httpx.Response:
    path, headers, body = REQUESTS[dialect]
    return httpx.post(f"{stack.url}{path}", json={**body, **fields}, headers=headers, timeout=20)


def message_of(response: httpx.Response) -> str:
    message = response.json()["error"]["message"]
    assert isinstance(message, str) and message
    return message


class LogWatch(logging.Handler):
    """Collects the proxy's log lines, from any thread, and lets a test wait until one logger wrote a text.

    The ledger's line is written by the sink's background task, after the response: hence a wait.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[str, str]] = []  # list.append is atomic: the proxy appends while the test reads

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, record.getMessage()))

    def wait_for(self, logger: str, text: str, timeout: float = 10) -> bool:
        return wait_until(lambda: any(name == logger and text in line for name, line in self.lines),
                          timeout=timeout, what=f"{logger} to log {text!r}")


@pytest.fixture
def proxy_log() -> Iterator[LogWatch]:
    watch, logger = LogWatch(), logging.getLogger("legion.proxy")
    level, logger.level = logger.level, logging.INFO
    logger.addHandler(watch)
    try:
        yield watch
    finally:
        logger.removeHandler(watch)
        logger.setLevel(level)


@pytest.mark.parametrize("dialect", sorted(REQUESTS))
def test_a_newcomer_without_providers_is_told_how_to_declare_one(stack: Stack, dialect: str) -> None:
    stack.configure(providers=(), aliases={}, credentials={})
    response = post(stack, dialect)
    assert response.status_code == 400
    message = message_of(response)
    assert "no provider is declared" in message and "proxy.providers" in message and "docs/proxy.md" in message
    if dialect == "openai":
        assert response.json()["error"]["code"] == "no_candidate" and response.json()["error"]["param"] == "model"


def test_auto_with_only_embedding_models_names_each_of_them(stack: Stack) -> None:
    stack.configure(providers=(provider_spec("ollama-local", "ollama", stack.urls["ollama"],
                                             ModelSpec(id="nomic-embed", capabilities=frozenset({"embeddings"}))),),
                    aliases={}, credentials={})
    response = post(stack, "openai")
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_candidate"
    assert "ollama-local/nomic-embed" in message_of(response)


def test_every_refused_candidate_is_named_with_its_reason(stack: Stack) -> None:
    response = post(stack, "openai", model="fast", tools=[{"type": "function", "function": {"name": "t"}}],
                    response_format={"type": "json_object"})
    message = message_of(response)
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_candidate"
    assert "ollama-local/llama3 lacks json" in message and "vllm-fleet/qwen lacks json" in message


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port nothing listens on: bound (so no one else takes it) but never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("dialect", sorted(REQUESTS))
def test_a_refused_connection_hides_the_address_from_the_client_and_logs_it(
        stack: Stack, proxy_log: LogWatch, dialect: str, stream: bool) -> None:
    with refused_port() as port:
        stack.configure(providers=(provider_spec("gpu-box", "openai_compatible", f"http://127.0.0.1:{port}/v1",
                                                 model_spec("qwen")),), aliases={}, credentials={})
        response = post(stack, dialect, model="qwen", stream=stream)
    assert response.status_code >= 500 and "gpu-box" in message_of(response)
    assert "127.0.0.1" not in response.text and str(port) not in response.text
    assert proxy_log.wait_for("legion.proxy", f"127.0.0.1:{port}")  # the consumer's line on the answer
    assert proxy_log.wait_for("legion.proxy.ledger", f"127.0.0.1:{port}")  # the ledger's attempt record


@pytest.mark.parametrize("dialect", sorted(REQUESTS))
def test_an_upstream_error_naming_its_own_url_reaches_the_client_without_it(
        stack: Stack, proxy_log: LogWatch, dialect: str) -> None:
    own_url = f"{stack.urls['openai']}/v1/chat/completions"
    stack.openai.queue("gpt-x", Fail("invalid", message=f"Invalid value for 'temperature' (POST {own_url})"))
    response = post(stack, dialect, model="gpt-x")
    port = own_url.split(":")[2].split("/")[0]
    assert response.status_code == 400 and "temperature" in message_of(response)
    assert "127.0.0.1" not in response.text and port not in response.text
    assert proxy_log.wait_for("legion.proxy", own_url) and proxy_log.wait_for("legion.proxy.ledger", own_url)
