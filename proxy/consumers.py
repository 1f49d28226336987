"""Channels HTTP consumers of the proxy: thin translators between ASGI and the proxy's services."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.http import AsyncHttpConsumer

from proxy.catalog import models_list


class ModelsConsumer(AsyncHttpConsumer):
    """`GET /v1/models` in the OpenAI list shape."""

    async def handle(self, body: bytes) -> None:
        payload: dict[str, Any] = {"object": "list", "data": models_list()}
        await self.send_response(200, json.dumps(payload).encode(), headers=[(b"content-type", b"application/json")])
