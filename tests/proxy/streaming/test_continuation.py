"""Joining a continuation onto the delivered text: whitespace, and the overlap a continuation by instruction repeats."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proxy.errors import ErrorKind, ProxyError
from proxy.streaming.continuation import HOLD_MARGIN, ContinuationJoiner, continuation_joined
from proxy.types import StopReason, StreamEnd, TextDelta, ThinkingDelta, ToolCall

pytestmark = pytest.mark.timeout(10)

# (delivered, continuation, what the client gets next)
RECONCILED = {
    "restart verbatim": ("Once upon a time there ", "Once upon a time there was a fox.", "was a fox."),
    "restart with other whitespace": ("Once upon\na time,  there ", " Once upon a time,\n\nthere was a fox.",
                                      "was a fox."),
    "restart of a word cut in half": ("Once upon a ti", "Once upon a time there", "me there"),
    "restart without the delivered trailing space": ("Once upon a time", "Once upon a time there", " there"),
    "restart then nothing new": ("The answer is 42. ", "The answer is 42.", ""),
    "tail repeated": ("Once upon a time there was ", "a time there was a fox.", "a fox."),
    "tail repeated then nothing new": ("It rained all day long. ", "rained all day long.", ""),
    "the longest repetition wins": ("one two three four one two three four ",
                                    "one two three four one two three four five.", "five."),
    "new text": ("Alpha beta ", "gamma delta.", "gamma delta."),
    "new text starting like the answer": ("The cat sat on the mat ", "The dog barked.", "The dog barked."),
    "a short repeated tail is a coincidence": ("He walked up to the ", "the door.", "the door."),
    "a tail repeat that stops matching is new text": ("Once upon a time there was ", "a time for tea.",
                                                     "a time for tea."),
    "new text after delivered text without trailing space": ("Alpha beta", " gamma.", " gamma."),
}
DIVERGING = {
    "restart that diverges": ("The capital of France is Paris and it is ", "The capital of France is a city."),
    "restart that ends short": ("The capital of France is Paris and it is large. ", "The capital of France is"),
    "restart diverging in the last word": ("Once upon a time there was ", "Once upon a time there were foxes."),
}


def joined(delivered: str, pieces: list[str], *, reconcile: bool = True) -> str:
    joiner = ContinuationJoiner(delivered, reconcile=reconcile, provider="p")
    return "".join(joiner.feed(piece) for piece in pieces) + joiner.finish()


def splits(text: str) -> list[list[str]]:
    """`text` whole, a character at a time, and cut in two at every position."""
    return [[text], list(text), *([text[:at], text[at:]] for at in range(1, len(text)))]


@pytest.mark.parametrize("case", RECONCILED)
def test_the_client_gets_only_what_extends_the_delivered_text(case: str) -> None:
    delivered, continuation, expected = RECONCILED[case]
    for pieces in splits(continuation):
        assert joined(delivered, pieces) == expected, pieces


@pytest.mark.parametrize("case", DIVERGING)
def test_a_restart_that_differs_cannot_be_joined(case: str) -> None:
    delivered, continuation = DIVERGING[case]
    for pieces in splits(continuation):
        with pytest.raises(ProxyError) as raised:
            joined(delivered, pieces)
        assert raised.value.kind is ErrorKind.STREAM_BROKEN and raised.value.provider == "p"


def test_new_text_goes_out_as_soon_as_it_cannot_be_a_repetition() -> None:
    joiner = ContinuationJoiner("Alpha beta ", reconcile=True)
    assert joiner.feed("gamma ") == "gamma "
    assert joiner.feed("delta.") == "delta."


def test_a_possible_restart_is_held_back_until_it_settles() -> None:
    joiner = ContinuationJoiner("Once upon a time there ", reconcile=True)
    assert [joiner.feed(piece) for piece in ["Once ", "upon ", "a ", "time ", "there ", "was ", "a fox."]] == [
        "", "", "", "", "", "was ", "a fox."]


def test_the_hold_back_ends_a_margin_past_the_delivered_length() -> None:
    delivered = "Hi there friend "
    joiner = ContinuationJoiner(delivered, reconcile=True)
    flood = "Hi" + " " * (len(delivered) + HOLD_MARGIN)
    assert joiner.feed(flood) == flood  # one word matched: new text, no longer held


def test_without_reconciling_only_whitespace_is_joined() -> None:
    assert joined("Once upon a ", ["Once upon", " a time"], reconcile=False) == "Once upon a time"
    assert joined("Once upon a ", [" ", " time", " there"], reconcile=False) == "time there"


@pytest.mark.anyio
async def test_held_text_is_settled_before_a_tool_call_and_the_end() -> None:
    call, end = ToolCall("call_1", "get_weather", "{}"), StreamEnd(StopReason.END)

    async def events() -> AsyncIterator[TextDelta | ThinkingDelta | ToolCall | StreamEnd]:
        for event in (ThinkingDelta("hmm"), TextDelta("Once "), TextDelta("upon"), call, TextDelta(" more"), end):
            yield event

    joiner = ContinuationJoiner("Once upon a time there ", reconcile=True)
    out = [event async for event in continuation_joined(events(), joiner)]
    assert out == [ThinkingDelta("hmm"), TextDelta("Once upon"), call, TextDelta(" more"), end]


@pytest.mark.anyio
async def test_a_continuation_that_only_repeats_ends_with_nothing_new() -> None:
    async def events() -> AsyncIterator[TextDelta | ThinkingDelta | ToolCall | StreamEnd]:
        for event in (TextDelta("The answer "), TextDelta("is 42."), StreamEnd(StopReason.END)):
            yield event

    joiner = ContinuationJoiner("The answer is 42. ", reconcile=True)
    assert [event async for event in continuation_joined(events(), joiner)] == [StreamEnd(StopReason.END)]
