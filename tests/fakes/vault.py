"""A local fake of HashiCorp Vault's KV v2 read API, faithful to its paths, token header and error shapes."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pytest_httpserver import HTTPServer, URIPattern
from werkzeug import Request, Response


class FakeVault:
    """Serves `GET /v1/<mount>/data/<path>` for the secrets it holds; 403 for a wrong token, 404 otherwise."""

    def __init__(self, server: HTTPServer, token: str) -> None:
        self.server = server
        self.token = token
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads = 0
        server.expect_request(_Prefix("/v1/"), method="GET").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def put(self, mount: str, path: str, data: dict[str, Any]) -> None:
        self.secrets[(mount, path)] = data

    def _handle(self, request: Request) -> Response:
        self.reads += 1
        if request.headers.get("X-Vault-Token") != self.token:
            return _json(403, {"errors": ["permission denied"]})
        mount, marker, path = request.path.removeprefix("/v1/").partition("/data/")
        data = self.secrets.get((mount, path)) if marker else None
        if data is None:
            return _json(404, {"errors": []})
        return _json(200, {
            "request_id": str(uuid.uuid4()), "lease_id": "", "renewable": False, "lease_duration": 0,
            "data": {"data": data, "metadata": {"created_time": "2026-11-24T00:00:00Z", "custom_metadata": None,
                                                "deletion_time": "", "destroyed": False, "version": 1}},
            "wrap_info": None, "warnings": None, "auth": None, "mount_type": "kv",
        })


class _Prefix(URIPattern):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def match(self, uri: str) -> bool:
        return uri.startswith(self.prefix)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
