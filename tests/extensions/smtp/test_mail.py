"""The smtp extension against a real local SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from apps.chains.models import RunStatus, TaskRun
from tests.extensions.conftest import principal_with
from tests.support import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60),
              # The login tests run without TLS on purpose (the local server has no certificate).
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")]

SENDER = "legion@example.test"


@dataclass
class Mailbox:
    """What the server received: one (envelope sender, envelope recipients, parsed message) per delivery."""

    received: list[tuple[str, list[str], email.message.EmailMessage]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"robot", b"s3cret")
    return AuthResult(success=ok, handled=False)


def serve(config: Callable[[str, Any], None], **smtp_options: Any) -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    for key, value in {"host": "127.0.0.1", "port": port, "security": "none", "sender": SENDER}.items():
        config(f"extensions.smtp.{key}", value)
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(config: Callable[[str, Any], None]) -> Iterator[SmtpServer]:
    yield from serve(config)


@pytest.fixture
def smtp_server_with_login(config: Callable[[str, Any], None]) -> Iterator[SmtpServer]:
    yield from serve(config, authenticator=authenticate, auth_required=True, auth_require_tls=False)


@pytest.fixture
def operator(db: None) -> Any:
    return principal_with("ops", "operator")


def test_a_message_is_delivered_with_its_headers_and_alternatives(
    runner: Callable[..., TaskRun], smtp_server: SmtpServer, operator: Any,
) -> None:
    run = runner("smtp.mail.send", {
        "to": ["alice@example.test"], "cc": ["carol@example.test"], "bcc": ["audit@example.test"],
        "subject": "Nightly report", "text": "All jobs succeeded.", "html": "<p>All jobs <b>succeeded</b>.</p>",
        "reply_to": "ops@example.test", "headers": {"X-Legion-Chain": "nightly"},
    }, operator)

    assert run.status == RunStatus.SUCCEEDED, run.error
    (mail_from, recipients, message), = smtp_server.mailbox.received
    assert mail_from == SENDER
    assert recipients == ["alice@example.test", "carol@example.test", "audit@example.test"]
    assert message["From"] == SENDER and message["To"] == "alice@example.test" and message["Cc"] == "carol@example.test"
    assert message["Bcc"] is None, "Bcc recipients stay in the envelope"
    assert message["Subject"] == "Nightly report" and message["X-Legion-Chain"] == "nightly"
    assert message.get_body(("plain",)).get_content().strip() == "All jobs succeeded."  # type: ignore[union-attr]
    assert "<b>succeeded</b>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert run.result is not None and run.result["message_id"] == message["Message-ID"]
    assert run.result["refused"] == {}


def test_the_message_id_is_the_same_for_the_same_idempotency_key(smtp_server: SmtpServer, registry: None) -> None:
    from apps.runners.definitions import RunContext
    from apps.runners.registry import function_spec_get

    spec = function_spec_get("smtp.mail.send")
    assert spec is not None
    payload = {"to": ["alice@example.test"], "subject": "once", "text": "hello"}
    first = spec.call(payload, RunContext(run_id="r", idempotency_key="key-1", attempt=1, function="smtp.mail.send"))
    again = spec.call(payload, RunContext(run_id="r", idempotency_key="key-1", attempt=2, function="smtp.mail.send"))
    other = spec.call(payload, RunContext(run_id="s", idempotency_key="key-2", attempt=1, function="smtp.mail.send"))

    assert first["message_id"] == again["message_id"] != other["message_id"]
    assert first["message_id"].endswith("@example.test>")


def test_login_is_used_when_configured(runner: Callable[..., TaskRun], smtp_server_with_login: SmtpServer,
                                       operator: Any, config: Callable[[str, Any], None]) -> None:
    config("extensions.smtp.username", "robot")
    config("extensions.smtp.password", "s3cret")
    run = runner("smtp.mail.send", {"to": ["alice@example.test"], "subject": "hi", "text": "x"}, operator)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert len(smtp_server_with_login.mailbox.received) == 1


def test_a_wrong_password_fails_the_run_without_retrying(runner: Callable[..., TaskRun],
                                                          smtp_server_with_login: SmtpServer, operator: Any,
                                                          config: Callable[[str, Any], None]) -> None:
    config("extensions.smtp.username", "robot")
    config("extensions.smtp.password", "wrong")
    run = runner("smtp.mail.send", {"to": ["alice@example.test"], "subject": "hi", "text": "x"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "smtp_refused"
    assert smtp_server_with_login.mailbox.received == []


def test_starttls_is_required_when_configured_and_never_skipped(runner: Callable[..., TaskRun],
                                                                 smtp_server: SmtpServer, operator: Any,
                                                                 config: Callable[[str, Any], None]) -> None:
    config("extensions.smtp.security", "starttls")
    run = runner("smtp.mail.send", {"to": ["alice@example.test"], "subject": "hi", "text": "x"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "smtp_refused"
    assert smtp_server.mailbox.received == []


def test_refused_recipients_are_reported_and_the_rest_delivered(runner: Callable[..., TaskRun],
                                                                 smtp_server: SmtpServer, operator: Any) -> None:
    smtp_server.mailbox.refuse = {"ghost@example.test"}
    run = runner("smtp.mail.send", {"to": ["alice@example.test", "ghost@example.test"], "subject": "s",
                                    "text": "t"}, operator)
    assert run.status == RunStatus.SUCCEEDED and run.result is not None
    assert run.result["recipients"] == ["alice@example.test"]
    assert run.result["refused"]["ghost@example.test"].startswith("550")


def test_every_recipient_refused_fails_the_run(runner: Callable[..., TaskRun], smtp_server: SmtpServer,
                                               operator: Any) -> None:
    smtp_server.mailbox.refuse = {"ghost@example.test"}
    run = runner("smtp.mail.send", {"to": ["ghost@example.test"], "subject": "s", "text": "t"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "smtp_refused"


def test_a_header_injection_is_refused(runner: Callable[..., TaskRun], smtp_server: SmtpServer,
                                       operator: Any) -> None:
    run = runner("smtp.mail.send", {"to": ["alice@example.test"], "subject": "hi\r\nBcc: victim@example.test",
                                    "text": "x"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "permanent_error"
    assert smtp_server.mailbox.received == []


def test_a_malformed_address_fails_validation_naming_the_field(runner: Callable[..., TaskRun],
                                                               smtp_server: SmtpServer, operator: Any) -> None:
    run = runner("smtp.mail.send", {"to": ["not an address"], "subject": "s"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None
    assert run.error["code"] == "validation_error" and run.error["field"] == "to.0"


def test_an_unreachable_server_is_retried(runner: Callable[..., TaskRun], operator: Any,
                                          config: Callable[[str, Any], None]) -> None:
    for key, value in {"host": "127.0.0.1", "port": free_port(), "security": "none", "sender": SENDER}.items():
        config(f"extensions.smtp.{key}", value)
    run = runner("smtp.mail.send", {"to": ["alice@example.test"], "subject": "s", "text": "t"}, operator)
    assert run.status == RunStatus.QUEUED and run.error is not None and run.error["code"] == "function_error"


def test_without_a_configured_server_nothing_is_sent(runner: Callable[..., TaskRun], operator: Any) -> None:
    run = runner("smtp.mail.send", {"to": ["alice@example.test"], "subject": "s", "text": "t"}, operator)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "smtp_not_configured"
