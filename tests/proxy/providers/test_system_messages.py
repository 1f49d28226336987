"""Mid-conversation system messages reach each provider in place: as system turns where taken, else as reminders."""

from __future__ import annotations

from proxy.config import Deadlines
from proxy.providers import provider_build
from proxy.providers.system_messages import system_folded
from proxy.types import ChatRequest, Message, Native, TextPart, ToolResultPart, ToolUsePart
from tests.proxy.conftest import model_spec, provider_spec

REMINDER = Message("system", (TextPart("The user switched to plan mode."),))
QUESTION = Message("user", (TextPart("Where are we?"),))
CALL = Message("assistant", (ToolUsePart("toolu_1", "read", {"path": "a.txt"}),))
RESULT = Message("user", (ToolResultPart("toolu_1", (TextPart("contents"),)),))
FOLDED = "<system-reminder>\nThe user switched to plan mode.\n</system-reminder>"
MID_SYSTEM = Native("anthropic", {}, ("interleaved-thinking-2025-05-14", "mid-conversation-system-2026-04-07"))


def render(kind: str, messages: tuple[Message, ...], native: Native | None = None) -> list[dict]:  # type: ignore[type-arg]
    spec = provider_spec("p", kind, "http://127.0.0.1:9", model_spec("m", "tools"))
    provider = provider_build(spec, api_key=None, deadlines=Deadlines())
    body = provider.render(ChatRequest(model="m", messages=messages, native=native), spec.models[0],  # type: ignore[attr-defined]
                           stream=False)
    return body["messages"]  # type: ignore[no-any-return]


def test_a_reminder_is_folded_into_the_next_user_turn_after_its_tool_results() -> None:
    folded = system_folded((QUESTION, CALL, REMINDER, RESULT))
    assert [m.role for m in folded] == ["user", "assistant", "user"]
    assert isinstance(folded[2].content[0], ToolResultPart)
    assert folded[2].content[1] == TextPart(FOLDED)


def test_a_reminder_with_no_user_turn_after_it_joins_the_one_before_or_stands_alone() -> None:
    assert system_folded((QUESTION, REMINDER)) == (Message("user", (*QUESTION.content, TextPart(FOLDED))),)
    assert system_folded((QUESTION, CALL, REMINDER))[-1] == Message("user", (TextPart(FOLDED),))


def test_a_reminder_keeps_the_cache_breakpoint_the_client_put_on_it() -> None:
    cached = Message("system", (TextPart("note", {"type": "ephemeral"}),))
    assert system_folded((QUESTION, cached))[-1].content[-1].cache == {"type": "ephemeral"}  # type: ignore[union-attr]


def test_anthropic_takes_system_turns_in_place_under_the_clients_beta() -> None:
    messages = render("anthropic", (QUESTION, REMINDER, Message("assistant", (TextPart("Here."),))), MID_SYSTEM)
    assert [m["role"] for m in messages] == ["user", "system", "assistant"]
    assert messages[1]["content"] == [{"type": "text", "text": "The user switched to plan mode."}]


def test_anthropic_without_the_beta_gets_the_reminder_in_the_adjacent_user_turn() -> None:
    messages = render("anthropic", (QUESTION, REMINDER, Message("assistant", (TextPart("Here."),))))
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"][-1] == {"type": "text", "text": FOLDED}


def test_openai_keeps_system_messages_where_they_are() -> None:
    messages = render("openai", (QUESTION, REMINDER, Message("assistant", (TextPart("Here."),))))
    assert [m["role"] for m in messages] == ["user", "system", "assistant"]


def test_openai_moves_a_system_message_past_the_tool_results_it_would_separate_from_their_calls() -> None:
    messages = render("openai", (QUESTION, CALL, REMINDER, RESULT))
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "system"]


def test_open_model_servers_get_reminders_their_chat_templates_accept() -> None:
    for kind in ("openai_compatible", "ollama"):
        messages = render(kind, (QUESTION, REMINDER, Message("assistant", (TextPart("Here."),))))
        assert [m["role"] for m in messages] == ["user", "assistant"], kind
        content = messages[0]["content"]
        texts = [content] if isinstance(content, str) else [part["text"] for part in content]
        assert any(text.endswith(FOLDED) for text in texts), kind
