"""Token estimates for routing and for usage a provider did not report: four characters per token.

The estimator is deliberately crude and fast; it only has to rank prompts against context windows and fill
gaps in usage, which are always marked as estimated.
"""

from __future__ import annotations

import json

from proxy.types import ChatRequest, ImagePart, TextPart, ThinkingPart, ToolResultPart, ToolUsePart

ESTIMATOR = "chars_div_4 v1"
IMAGE_TOKENS = 1000  # a typical vision encoder's cost for one image; providers report the real figure
MESSAGE_OVERHEAD = 4


def text_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def request_tokens(request: ChatRequest) -> int:
    """Estimated prompt tokens: system, messages, and the tool declarations the model also reads."""
    total = text_tokens(request.system_text)
    for message in request.messages:
        total += MESSAGE_OVERHEAD
        for part in message.content:
            if isinstance(part, TextPart | ThinkingPart):
                total += text_tokens(part.text)
            elif isinstance(part, ImagePart):
                total += IMAGE_TOKENS
            elif isinstance(part, ToolUsePart):
                total += text_tokens(part.name) + text_tokens(json.dumps(part.input))
            elif isinstance(part, ToolResultPart):
                total += text_tokens(part.text) + IMAGE_TOKENS * sum(isinstance(p, ImagePart) for p in part.content)
    for tool in request.tools:
        total += text_tokens(tool.name) + text_tokens(tool.description) + text_tokens(json.dumps(tool.input_schema))
    return total
