"""Publish messages on channels."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from apps.runners.sdk import RunContext, runner_function
from extensions.redis.connections import redis_client

TRIGGER_WORDS = ("publish", "pubsub", "channel", "notify")


class Published(TypedDict):
    channel: str
    receivers: int


@runner_function(idempotent=False, risk_tier="standard", trigger_words=("publish", "broadcast"))
def publish(
    connection: Annotated[str, Field(min_length=1, max_length=100)],
    channel: Annotated[str, Field(min_length=1, max_length=1024)],
    message: Annotated[str, Field(max_length=10_000_000)],
    ctx: RunContext,
) -> Published:
    """Publish `message` on `channel`; `receivers` is how many subscribers got it. Not retried: a subscriber
    that already received it would receive it again."""
    with redis_client(connection) as client:
        receivers = int(client.publish(channel, message))
    ctx.log(f"published on {channel} ({connection}) to {receivers} subscriber(s)")
    return {"channel": channel, "receivers": receivers}
