"""Upstream addresses never reach a client: redacted from every ProxyError's message, kept in its detail."""

from __future__ import annotations

import pytest

from proxy.errors import ErrorKind, ProxyError
from proxy.providers.base import HttpProvider
from proxy.providers.openai_compatible import OpenAICompatibleProvider
from proxy.redaction import UNNAMED, addresses_redact
from tests.proxy.conftest import FAST, model_spec, provider_spec

REDACTED = {
    "url": ("openai: 404 at http://10.1.2.3:8000/v1/chat/completions.", "openai: 404 at gpu."),
    "https_url_with_ipv6": ("failed: https://[fd00::5]:443/v1", "failed: gpu"),
    "host_port": ("connecting to 127.0.0.1:45123: refused", "connecting to gpu: refused"),
    "named_host_port": ("cannot reach llm.svc.cluster.local:8000 now", "cannot reach gpu now"),
    "localhost_port": ("localhost:11434 refused", "gpu refused"),
    "socket_tuple": ("Connect call failed ('127.0.0.1', 45123)", "Connect call failed gpu"),
    "ipv6_socket_tuple": ("Connect call failed ('::1', 45123, 0, 0)", "Connect call failed gpu"),
    "ipv4": ("upstream 192.168.0.7 said no", "upstream gpu said no"),
    "ipv6": ("upstream fe80::1 and 2001:db8::42 said no", "upstream gpu and gpu said no"),
    "bare_base_url_host": ("Name or service not known: gpu-box.internal", "Name or service not known: gpu"),
    "base_url_host_with_port": ("gpu-box.internal:9000 is down", "gpu is down"),
}


@pytest.mark.parametrize("case", sorted(REDACTED))
def test_addresses_become_the_provider_name(case: str) -> None:
    text, expected = REDACTED[case]
    assert addresses_redact(text, name="gpu", base_url="http://gpu-box.internal:9000/v1") == expected


KEPT = [
    "unknown model 'llama3.1:8b'; known models: qwen2.5:7, ollama/llama3, meta-llama/Llama-3-8B",
    "rate limit resets at 12:30:45",
    "'messages[0].content[1].image_url.url' must be a data URL",
    "std::vector overflow in a:b:c",
    "request body is not valid JSON: Expecting value: line 1 column 2 (char 1)",
]


@pytest.mark.parametrize("text", KEPT)
def test_text_that_is_no_address_is_left_alone(text: str) -> None:
    assert addresses_redact(text, name="gpu", base_url="http://gpu-box.internal:9000") == text


def test_without_a_provider_addresses_become_a_neutral_word() -> None:
    assert addresses_redact("see http://10.0.0.1:80/x") == f"see {UNNAMED}"


def test_a_proxy_error_shows_the_client_the_redacted_message_and_keeps_the_detail() -> None:
    error = ProxyError(ErrorKind.CONNECT, "gpu: ConnectError: connecting to 10.0.0.9:8000: refused", provider="gpu",
                       upstream="http://10.0.0.9:8000/v1")
    assert error.message == "gpu: ConnectError: connecting to gpu: refused"
    assert "10.0.0.9:8000" in error.detail and "10.0.0.9:8000" in repr(error)


def test_an_explicit_detail_is_kept_beside_the_summary() -> None:
    error = ProxyError(ErrorKind.EXHAUSTED, "all failed: gpu refused", detail="all failed: 10.0.0.9:8000 refused")
    assert (error.message, error.detail) == ("all failed: gpu refused", "all failed: 10.0.0.9:8000 refused")


@pytest.mark.anyio
async def test_an_error_leaving_a_providers_boundary_loses_its_bare_host() -> None:
    provider: HttpProvider = OpenAICompatibleProvider(
        provider_spec("gpu", "openai_compatible", "http://gpu-box.internal:9000/v1", model_spec("m")),
        api_key=None, deadlines=FAST)
    try:
        with pytest.raises(ProxyError) as raised, provider.boundary():
            raise ProxyError(ErrorKind.SERVER, "gpu: in-band error: lookup gpu-box.internal failed", provider="gpu")
    finally:
        await provider.aclose()
    assert raised.value.message == "gpu: in-band error: lookup gpu failed"
    assert "gpu-box.internal" in raised.value.detail
