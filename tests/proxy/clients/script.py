"""What a scripted model answers a coding agent, decided from the request itself rather than from its order.

Clients send side requests (titles, quota probes, token counts) whose number and order change between
versions; answering by content keeps a capture or an end-to-end run stable across them: a request carrying
the tool-use prompt and offering the tool gets a tool call, one carrying the tool's result gets the final
answer quoting it, anything else gets a short greeting. One function per wire format the model sees: Anthropic
messages (Claude Code), OpenAI Responses (Codex), and OpenAI chat completions (Codex through the proxy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.proxy.clients.launch import NOTE, NOTE_TEXT, TOOL_PROMPT
from tests.proxy.fakes.openai_responses import declared_tools
from tests.proxy.fakes.script import Reply

GREETING = "Hello there from the scripted model."
FINAL = f"The note says: {NOTE_TEXT}"


def claude_reply(body: dict[str, Any], note: Path) -> Reply:
    """Claude Code: the Read tool on `note`, then the answer once a tool_result comes back."""
    if any(block.get("type") == "tool_result" for message in body.get("messages", [])
           if isinstance(message.get("content"), list) for block in message["content"]):
        return Reply(FINAL)
    offered = {tool.get("name") for tool in body.get("tools", [])}
    if "Read" in offered and TOOL_PROMPT in json.dumps(body.get("messages", [])):
        return Reply("", tool_calls=[("Read", {"file_path": str(note)})])
    return Reply(GREETING)


def codex_reply(body: dict[str, Any]) -> Reply:
    """Codex: its command tool (whichever variant this request offers) on the note, then the answer."""
    items = body.get("input", [])
    if any(isinstance(item, dict) and item.get("type") in ("function_call_output", "custom_tool_call_output")
           for item in items):
        return Reply(FINAL)
    call = shell_call({tool["name"]: tool["type"] for tool in declared_tools(body) if "name" in tool})
    if call and TOOL_PROMPT in json.dumps(items):
        return Reply("", tool_calls=[call])
    return Reply(GREETING)


def chat_reply(body: dict[str, Any]) -> Reply:
    """Codex's conversation as the proxy hands it to a chat completions upstream: the same turns, that format."""
    messages = body.get("messages", [])
    if any(message.get("role") == "tool" for message in messages):
        return Reply(FINAL)
    tools = [tool for tool in body.get("tools") or [] if "function" in tool]
    call = shell_call({tool["function"]["name"]: tool["type"] for tool in tools})
    if call and TOOL_PROMPT in json.dumps(messages):
        return Reply("", tool_calls=[call])
    return Reply(GREETING)


def shell_call(offered: dict[str, str]) -> tuple[str, dict[str, Any]] | None:
    """A call that prints the note, in the shape of the command tool offered (`offered`: tool name → type).

    Codex's own models get "code mode": one freeform `exec` tool taking JavaScript that calls the other tools
    (a `custom` tool, its input under "input" for the fake); other models get plain function tools.
    """
    shapes: dict[str, dict[str, Any]] = {
        "exec": {"input": f'text(await tools.exec_command({{cmd: "cat {NOTE}"}}));'},
        "exec_command": {"cmd": f"cat {NOTE}"},  # unified exec (PTY sessions)
        "shell_command": {"command": f"cat {NOTE}"},  # one shell string
        "shell": {"command": ["cat", NOTE]},  # argv, the original tool
    }
    kinds = {"exec": "custom"}
    return next(((name, args) for name, args in shapes.items()
                 if offered.get(name) == kinds.get(name, "function")), None)
