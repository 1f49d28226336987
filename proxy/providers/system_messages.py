"""Mid-conversation system messages for providers that take none: rendered in place as reminders in a user turn.

Agent harnesses (Claude Code, Codex) insert system reminders between turns. A provider that accepts system
messages anywhere gets them where the client put them; for one that does not, each is folded into the user turn
that follows it (after that turn's tool results, which must lead it), or else the user turn before it, or
becomes a user turn of its own. Either way it stays at its position, so the bytes before it — the prefix
the provider may have cached — do not change when a reminder appears.
"""

from __future__ import annotations

from proxy.types import Message, Part, TextPart, ToolResultPart


def reminder_text(message: Message) -> str:
    return f"<system-reminder>\n{message.text}\n</system-reminder>"


def system_folded(messages: tuple[Message, ...]) -> tuple[Message, ...]:
    """`messages` with every system message folded into a user turn beside it: the next one when a user turn
    follows, else the previous one, else a user turn of its own (turns keep alternating, as templates demand)."""
    if not any(message.role == "system" for message in messages):
        return messages
    out: list[Message] = []
    pending: list[Part] = []
    for message in messages:
        if message.role == "system":
            # A breakpoint the client set on the system message stays on the text that now carries it.
            cache = next((part.cache for part in message.content if isinstance(part, TextPart) and part.cache), None)
            pending.append(TextPart(reminder_text(message), cache))
            continue
        if pending and message.role == "user":
            results = [part for part in message.content if isinstance(part, ToolResultPart)]
            rest = [part for part in message.content if not isinstance(part, ToolResultPart)]
            message = Message("user", (*results, *pending, *rest))
        elif pending:
            _flush(out, pending)
        pending = []
        out.append(message)
    if pending:
        _flush(out, pending)
    return tuple(out)


def _flush(out: list[Message], pending: list[Part]) -> None:
    if out and out[-1].role == "user":
        out[-1] = Message("user", (*out[-1].content, *pending))
    else:
        out.append(Message("user", tuple(pending)))
