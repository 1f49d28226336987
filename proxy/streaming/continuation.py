"""Continuing an answer on another model after part of it reached the client, without repeating or restarting."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator

from proxy.config import ModelSpec
from proxy.errors import ErrorKind, ProxyError
from proxy.streaming.closing import iterator_close
from proxy.types import ChatRequest, Message, StreamEnd, TextDelta, TextPart, ThinkingDelta, ToolCall

INSTRUCTION = (
    "Your previous reply was cut off. Continue it exactly where it stopped: do not repeat anything already "
    "written, do not restart, do not comment; output only the remaining text."
)
# A repeated tail shorter than this could be a coincidence ("of the"), so it is kept as new text.
MIN_REPEAT_WORDS = 3
MIN_REPEAT_CHARS = 12
# How far past the delivered text's length a continuation's raw text is held back at most (runs of whitespace
# collapse when comparing, so the raw text of a repetition can be a little longer than the delivered text).
HOLD_MARGIN = 256


def continuation_request(request: ChatRequest, delivered: str, model: ModelSpec) -> ChatRequest:
    """`request` extended so the model writes what follows `delivered`.

    With prefill the partial answer is the assistant turn the model extends; without it, the partial answer is
    shown and an explicit instruction asks for the rest. Thinking is off: the answer is already under way, and
    providers refuse thinking on a prefilled turn.
    """
    # Anthropic rejects a prefill ending in whitespace; the joiner puts the whitespace back.
    partial = Message("assistant", (TextPart(delivered.rstrip()),))
    if "prefill" in model.capabilities:
        messages = (*request.messages, partial)
    else:
        messages = (*request.messages, partial, Message("user", (TextPart(INSTRUCTION),)))
    native = request.native
    if native is not None and "thinking" in native.fields:
        native = dataclasses.replace(native, fields={k: v for k, v in native.fields.items() if k != "thinking"})
    return dataclasses.replace(request, messages=messages, thinking_budget=None, native=native)


class ContinuationJoiner:
    """Joins continuation text onto what the client already has: at the whitespace a prefill trimmed, and, with
    `reconcile`, without the part of the delivered text the continuation repeats.

    Models asked by instruction to continue often start the answer over, or repeat its last words. Reconciling
    holds the continuation's text back while it could still be such a repetition, comparing with whitespace
    collapsed, and settles as soon as it can tell (at the latest at the continuation's end, `finish`):

    - **Repetition.** The continuation repeats the delivered text from its start (a restart), or from a word of
      it on (a repeated tail of at least MIN_REPEAT_WORDS words and MIN_REPEAT_CHARS characters), up to the
      delivered text's end: the repetition is swallowed and only what follows it goes out. When several
      readings fit, the longest repetition wins. A continuation that repeated and then ended adds nothing: the
      answer is complete as delivered.
    - **Diverging restart.** It repeated at least MIN_REPEAT_WORDS words from the start of the delivered text,
      then differed (or ended) before reaching its end: the fallback restarted the answer differently, which
      cannot be joined to what the client has. Raises a STREAM_BROKEN ProxyError.
    - **New text.** Anything else goes out as it came: a match of a few words from the start, or a repeated
      tail that stops matching before the delivered text's end, is taken as a coincidence.

    The hold-back is at most the delivered text's length (plus HOLD_MARGIN of whitespace): a repetition cannot
    be longer than what it repeats.
    """

    def __init__(self, delivered: str, *, reconcile: bool = False, provider: str = "") -> None:
        # If the client's text already ends in whitespace, leading whitespace from the continuation would double it.
        self.skip_space = delivered != delivered.rstrip()
        self.provider = provider
        self.target = " ".join(delivered.split())
        self.settled = not (reconcile and self.target)
        self.limit = len(delivered) + HOLD_MARGIN
        self.held = ""
        self.seen = 0  # characters of the held text after collapsing whitespace
        self.after_space = False
        # Readings still possible: the offsets into `target` where the repetition would start (0: a restart).
        self.live = [0, *self._tail_starts()]
        self.repeats: dict[int, int] = {}  # reading -> end of its repetition in `held`, once it reached the end
        self.restart_matched = 0  # collapsed characters the restart reading matched

    def _tail_starts(self) -> list[int]:
        """Where a repeated tail may start: each word of the delivered text that leaves enough to repeat."""
        starts = [index + 1 for index, char in enumerate(self.target) if char == " "]
        words = len(starts) + 1
        return [start for word, start in enumerate(starts, 1)
                if words - word >= MIN_REPEAT_WORDS and len(self.target) - start >= MIN_REPEAT_CHARS]

    def feed(self, text: str) -> str:
        """What of `text` goes to the client now ("" while it is held back)."""
        if self.settled:
            return self._join(text)
        start = len(self.held)
        self.held += text
        for end, char in enumerate(text, start + 1):
            if char.isspace():
                if not self.seen or self.after_space:
                    continue
                char = " "
            self.after_space = char == " "
            self._compare(char, end)
            self.seen += 1
        if not self.live or len(self.held) > self.limit:
            return self._settle()
        return ""

    def finish(self) -> str:
        """What held text goes to the client when the continuation ends (or a tool call interrupts its text)."""
        return "" if self.settled else self._settle()

    def _compare(self, char: str, end: int) -> None:
        """Advance every live reading by one collapsed character of the continuation, which ends at `end` in
        the held text."""
        still = []
        for start in self.live:
            if self.target[start + self.seen] != char:
                continue
            if start == 0:
                self.restart_matched = self.seen + 1
            if start + self.seen + 1 == len(self.target):
                self.repeats[start] = end
            else:
                still.append(start)
        self.live = still

    def _settle(self) -> str:
        self.settled = True
        held, self.held = self.held, ""
        if self.repeats:
            return self._join(held[self.repeats[min(self.repeats)]:])
        if len(self.target[:self.restart_matched].split()) >= MIN_REPEAT_WORDS:
            where = f"{self.provider}: " if self.provider else ""
            raise ProxyError(ErrorKind.STREAM_BROKEN, f"{where}the fallback restarted the answer differently from "
                             "what was already sent", provider=self.provider or None)
        return self._join(held)

    def _join(self, text: str) -> str:
        if self.skip_space:
            stripped = text.lstrip()
            if not stripped:
                return ""
            self.skip_space = False
            return stripped
        return text


async def continuation_joined(
    events: AsyncIterator[TextDelta | ThinkingDelta | ToolCall | StreamEnd], joiner: ContinuationJoiner,
) -> AsyncGenerator[TextDelta | ThinkingDelta | ToolCall | StreamEnd, None]:
    """`events` with their text passed through `joiner`; held text is settled before a tool call or the end."""
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                text = joiner.feed(event.text)
            elif isinstance(event, ToolCall | StreamEnd):
                text = joiner.finish()
            else:
                yield event
                continue
            if text:
                yield TextDelta(text)
            if not isinstance(event, TextDelta):
                yield event
    finally:
        await iterator_close(events)
