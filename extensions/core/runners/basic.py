"""Basic steps for building and testing chains: log, wait, echo, split a list, fail on purpose."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any, Literal

from pydantic import Field
from typing_extensions import TypedDict

from apps.runners.sdk import PermanentError, RunContext, runner_function

TRIGGER_WORDS = ("basic", "log", "wait", "echo", "fail")
logger = logging.getLogger("legion.extensions.core")


class Logged(TypedDict):
    message: str
    level: str


class Waited(TypedDict):
    waited: float


class Item(TypedDict):
    value: Any
    index: int


@runner_function(idempotent=True, risk_tier="low", trigger_words=("log", "print"))
def log(message: str, ctx: RunContext, level: Literal["debug", "info", "warning", "error"] = "info") -> Logged:
    """Write a message to the run's log and the worker's log."""
    logger.log(logging.getLevelNamesMapping()[level.upper()], "%s: %s", ctx.run_id, message)
    ctx.log(message, level=level)
    return {"message": message, "level": level}


@runner_function(idempotent=True, risk_tier="low", trigger_words=("wait", "sleep", "delay"))
def wait(seconds: Annotated[float, Field(ge=0, le=300)]) -> Waited:
    """Sleep for a number of seconds (at most 300), holding the worker slot like a slow step would."""
    time.sleep(seconds)
    return {"waited": seconds}


@runner_function(idempotent=True, risk_tier="low", trigger_words=("echo",))
def echo(data: dict[str, Any]) -> dict[str, Any]:
    """Return the given object unchanged: the identity step of a chain."""
    return data


@runner_function(idempotent=True, risk_tier="low", trigger_words=("split", "fan-out"))
def split(items: Annotated[list[Any], Field(max_length=100_000)]) -> list[Item]:
    """Return one element per item, so a relationship on this function fans out one child run per item."""
    return [{"value": value, "index": index} for index, value in enumerate(items)]


@runner_function(risk_tier="low", trigger_words=("fail", "error"), max_attempts=3, backoff_seconds=0.2)
def fail(
    ctx: RunContext,
    message: str = "failed on purpose",
    until_attempt: Annotated[int, Field(ge=0)] = 1_000_000,
    permanent: bool = False,
) -> Logged:
    """Raise on attempts up to `until_attempt` (so a retry can succeed), or at once without retry if `permanent`."""
    if permanent:
        raise PermanentError(message)
    if ctx.attempt <= until_attempt:
        raise RuntimeError(f"{message} (attempt {ctx.attempt})")
    return {"message": f"succeeded on attempt {ctx.attempt}", "level": "info"}
