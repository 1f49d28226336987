"""Claude Code and Codex, the real pinned CLIs, run through the served proxy: a streamed answer and a tool-use turn.

Each CLI runs non-interactively in throwaway homes, pointed at the proxy on loopback with a suite key; the
proxy routes to a scripted fake provider that answers by content (`tests.proxy.clients.script`): a greeting,
or a call of the client's file tool on a note, then the note quoted once the client sends the tool's result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.proxy.clients import launch
from tests.proxy.clients.conftest import behind_proxy
from tests.proxy.clients.script import FINAL, GREETING, chat_reply, claude_reply
from tests.proxy.clients.upstream import Scripted
from tests.proxy.clients.wire import json_lines
from tests.proxy.conftest import TEST_KEY, Stack
from tests.proxy.fakes.anthropic import FakeAnthropic
from tests.proxy.fakes.openai import FakeOpenAI

# The CLI's own bound, under the test's: a hung client fails with its output rather than a bare timeout.
CLI_SECONDS = 90.0
pytestmark = pytest.mark.timeout(150)


def claude_code(stack: Stack, bins: dict[str, str], root: Path, prompt: str) -> tuple[list[dict[str, Any]],
                                                                                     Scripted]:
    upstream = Scripted(FakeAnthropic(api_key="sk-ant"), lambda body: claude_reply(body, root / "work" / launch.NOTE))
    with behind_proxy(stack, "anthropic", upstream):
        done = launch.claude(bins["LEGION_CLAUDE_BIN"], base_url=stack.url, key=TEST_KEY, root=root, prompt=prompt,
                             model="claude-x").run(CLI_SECONDS)
    assert done.returncode == 0, f"{done.stderr[-1500:]}\n{done.stdout[-1500:]}"
    return json_lines(done.stdout), upstream


def text_deltas(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"]["delta"]["text"] for e in events if e["type"] == "stream_event"
            and e["event"]["type"] == "content_block_delta" and e["event"]["delta"]["type"] == "text_delta"]


def test_claude_code_gets_a_streamed_answer(stack: Stack, client_bins: dict[str, str], tmp_path: Path) -> None:
    events, upstream = claude_code(stack, client_bins, tmp_path, launch.PROMPT)
    result = events[-1]
    assert result["type"] == "result" and result["subtype"] == "success" and result["result"] == GREETING
    deltas = text_deltas(events)
    assert len(deltas) > 1 and "".join(deltas) == GREETING  # word by word, as the fake streamed it
    assert upstream.bodies("/v1/messages")[0]["stream"] is True


def test_claude_code_runs_a_tool_and_finishes_on_its_result(stack: Stack, client_bins: dict[str, str],
                                                            tmp_path: Path) -> None:
    events, upstream = claude_code(stack, client_bins, tmp_path, launch.TOOL_PROMPT)
    assert events[-1]["subtype"] == "success" and events[-1]["result"] == FINAL
    used = [block for e in events if e["type"] == "assistant" for block in e["message"]["content"]
            if block["type"] == "tool_use"]
    assert [block["name"] for block in used] == ["Read"]
    results = [block for body in upstream.bodies("/v1/messages") for message in body["messages"]
               if isinstance(message["content"], list) for block in message["content"]
               if block.get("type") == "tool_result"]
    assert results and launch.NOTE_TEXT in str(results[-1]["content"])
    # Claude Code's betas reach an Anthropic upstream on every request (issue 8).
    assert all("anthropic-beta" in exchange.headers for exchange in upstream.exchanges)


def codex(stack: Stack, bins: dict[str, str], root: Path, prompt: str) -> tuple[list[dict[str, Any]], Scripted]:
    upstream = Scripted(FakeOpenAI(api_key="sk-openai"), chat_reply)
    with behind_proxy(stack, "openai", upstream):
        done = launch.codex(bins["LEGION_CODEX_BIN"], base_url=stack.url, key=TEST_KEY, root=root, prompt=prompt,
                            model="gpt-x").run(CLI_SECONDS)
    assert done.returncode == 0, f"{done.stderr[-1500:]}\n{done.stdout[-1500:]}"
    return json_lines(done.stdout), upstream


def completed(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e["item"] for e in events if e["type"] == "item.completed" and e["item"]["type"] == kind]


def test_codex_gets_a_streamed_answer(stack: Stack, client_bins: dict[str, str], tmp_path: Path) -> None:
    events, upstream = codex(stack, client_bins, tmp_path, launch.PROMPT)
    assert [item["text"] for item in completed(events, "agent_message")] == [GREETING]
    assert events[-1]["type"] == "turn.completed" and events[-1]["usage"]["output_tokens"] > 0
    assert upstream.bodies("/v1/chat/completions")[0]["stream"] is True


def test_codex_runs_its_shell_tool_and_finishes_on_its_output(stack: Stack, client_bins: dict[str, str],
                                                              tmp_path: Path) -> None:
    events, upstream = codex(stack, client_bins, tmp_path, launch.TOOL_PROMPT)
    commands = completed(events, "command_execution")
    assert len(commands) == 1 and launch.NOTE_TEXT in commands[0]["aggregated_output"]
    assert completed(events, "agent_message")[-1]["text"] == FINAL
    assert events[-1]["type"] == "turn.completed"
    last = upstream.bodies("/v1/chat/completions")[-1]["messages"]
    assert last[-1]["role"] == "tool" and launch.NOTE_TEXT in str(last[-1]["content"])
