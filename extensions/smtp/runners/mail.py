"""Send an email through the configured SMTP server, from the configured sender."""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict

from apps.runners.sdk import PermanentError, RunContext, extension_settings, runner_function

TRIGGER_WORDS = ("mail", "email", "send", "notify")

Address = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^\s@<>,;\"]+@[^\s@<>,;\"]+$")]
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,100}$")]
# Headers the message is built from; a caller's `headers` may not replace them.
_STRUCTURAL = {"from", "to", "cc", "bcc", "sender", "reply-to", "subject", "date", "message-id", "mime-version",
               "content-type", "content-transfer-encoding", "return-path"}


class Sent(TypedDict):
    message_id: str
    recipients: list[str]
    refused: dict[str, str]


class SmtpNotConfigured(PermanentError):
    code = "smtp_not_configured"


class SmtpRefused(PermanentError):
    """The server said no in a way retrying cannot change (5xx, bad login, no TLS when TLS is required)."""

    code = "smtp_refused"


@runner_function(idempotent=False, risk_tier="standard", trigger_words=("mail", "email", "notify"),
                 max_attempts=3, backoff_seconds=5.0)
def send(
    to: Annotated[list[Address], Field(min_length=1)],
    subject: Annotated[str, Field(max_length=998)],
    ctx: RunContext,
    text: Annotated[str, Field(max_length=1_000_000)] = "",
    html: Annotated[str, Field(max_length=1_000_000)] | None = None,
    cc: list[Address] | None = None,
    bcc: list[Address] | None = None,
    reply_to: Address | None = None,
    headers: dict[HeaderName, str] | None = None,
) -> Sent:
    """Send a message (text, with an optional HTML alternative). Temporary failures (4xx, lost connection) retry.

    The Message-ID is derived from the run's idempotency key, so a retry or redelivery sends a message
    with the same ID that mail servers and clients can recognise as a duplicate.
    """
    configured = extension_settings("smtp")
    if not configured["host"] or not configured["sender"]:
        raise SmtpNotConfigured("set extensions.smtp.host and extensions.smtp.sender to send mail")
    recipients = list(dict.fromkeys([*to, *(cc or []), *(bcc or [])]))
    if len(recipients) > configured["max_recipients"]:
        raise PermanentError(f"{len(recipients)} recipients; extensions.smtp.max_recipients is "
                             f"{configured['max_recipients']}")
    message = _message(configured["sender"], to, cc or [], subject, text, html, reply_to, headers or {},
                       message_id=_message_id(ctx.idempotency_key, configured["sender"]))
    refused = _deliver(configured, message, recipients)
    ctx.log(f"mail {message['Message-ID']} to {len(recipients) - len(refused)} recipient(s)")
    return {"message_id": str(message["Message-ID"]), "recipients": [r for r in recipients if r not in refused],
            "refused": refused}


def _message_id(idempotency_key: str, sender: str) -> str:
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{sender.rsplit('@', 1)[-1]}>"


def _message(sender: str, to: list[str], cc: list[str], subject: str, text: str, html: str | None,
             reply_to: str | None, headers: dict[str, str], *, message_id: str) -> EmailMessage:
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = ", ".join(to)
        if cc:
            message["Cc"] = ", ".join(cc)  # Bcc recipients are in the envelope only, never in a header
        if reply_to:
            message["Reply-To"] = reply_to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = message_id
        for name, value in headers.items():
            if name.lower() in _STRUCTURAL:
                raise PermanentError(f"header {name} is set by the extension, not by the caller")
            message[name] = value
    except ValueError as exc:  # CR or LF in a header value: a header injection attempt or a mistake
        raise PermanentError(f"invalid header: {exc}") from exc
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def _deliver(configured: dict[str, Any], message: EmailMessage, recipients: list[str]) -> dict[str, str]:
    """Send over one connection; returns the recipients the server refused (the rest accepted it)."""
    timeout = configured["timeout_ms"] / 1000
    host, port, security = configured["host"], configured["port"], configured["security"]
    context = ssl.create_default_context()
    client: smtplib.SMTP = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=context) if security == "tls"
                            else smtplib.SMTP(host, port, timeout=timeout))
    try:
        if security == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                # Never fall back to plain text when TLS was asked for: the login and message would travel in clear.
                raise SmtpRefused(f"{host}:{port} does not offer STARTTLS (extensions.smtp.security is starttls)")
            client.starttls(context=context)
        if configured["username"]:
            client.login(configured["username"], configured["password"] or "")
        refused = client.send_message(message, from_addr=configured["sender"], to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpRefused(f"login refused: {exc.smtp_code}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise SmtpRefused(f"every recipient was refused: {_reasons(exc.recipients)}") from exc
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise SmtpRefused(f"the server answered {exc.smtp_code}: {exc.smtp_error!r}") from exc
        raise  # 4xx: temporary, worth another attempt
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
    return _reasons(refused)


def _reasons(refused: dict[str, tuple[int, bytes]]) -> dict[str, str]:
    return {address: f"{code} {reason.decode(errors='replace')}" for address, (code, reason) in refused.items()}
