"""The web bounds every request body before Django reads it, and every REST body in size and depth: each refusal is
a 4xx in the error envelope naming the limit, and a served lite web stays flat in memory under 1 GB of body."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.conf import settings as django_settings
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from legion_site.asgi import http_application
from tests.support import MANAGE, free_port, lite_env, upload_stream, wait_for

pytestmark = pytest.mark.timeout(120)

GB = 1 << 30
LIMIT = 2621440  # web.max_body_bytes by default: Django's own DATA_UPLOAD_MAX_MEMORY_SIZE


class EchoApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def post(self, request: Request, kind: str) -> Response:
        # "raw" reads the body as signed webhooks do, "data" parses it as every other endpoint does.
        return Response({"size": len(request.body)} if kind == "raw" else {"keys": len(request.data)})


urlpatterns = [path("api/v1/echo/<str:kind>/", EchoApi.as_view())]


def asgi_post(headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]) -> tuple[list[dict[str, Any]], int]:
    """POST to the web's ASGI app (full mode: Django alone) with a body pulled from `chunks` as the app asks;
    returns what it sent and how many chunks it pulled."""
    sent: list[dict[str, Any]] = []
    pulled, ended = 0, False

    async def receive() -> dict[str, Any]:
        nonlocal pulled, ended
        if ended:  # a client that sent its whole body waits for the answer, as a server's receive() does
            await asyncio.Event().wait()
        chunk = next(chunks, None)
        pulled += 1
        ended = chunk is None
        return {"type": "http.request", "body": chunk or b"", "more_body": not ended}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/chains/hooks/anything/", "raw_path": b"",
             "query_string": b"", "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
             "server": ("testserver", 80), "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"}}
    asyncio.run(http_application(lite=False)(scope, receive, send))
    return sent, pulled


def endless(size: int = 1 << 20) -> Iterator[bytes]:
    while True:
        yield b"x" * size


def test_a_declared_oversized_body_is_refused_before_django_reads_a_byte() -> None:
    sent, pulled = asgi_post([(b"content-length", str(GB).encode())], endless())
    assert pulled == 0 and sent[0]["status"] == 413 and (b"connection", b"close") in sent[0]["headers"]
    error = json.loads(sent[1]["body"])["error"]
    assert error["code"] == "request_too_large" and str(LIMIT) in error["message"]
    assert "web.max_body_bytes" in error["message"]


def test_an_undeclared_body_is_refused_as_soon_as_the_running_count_passes_the_limit() -> None:
    sent, pulled = asgi_post([(b"transfer-encoding", b"chunked")], endless())
    assert sent[0]["status"] == 413 and json.loads(sent[1]["body"])["error"]["code"] == "request_too_large"
    assert pulled == LIMIT // (1 << 20) + 1


@pytest.mark.urls(__name__)
def test_a_bad_api_key_is_refused_before_the_body_is_read(db: None) -> None:
    for key in ("lgn_malformed", "lgn_abcdefgh_" + "x" * 40):
        sent, pulled = asgi_post([(b"authorization", f"Bearer {key}".encode()), (b"content-length", b"100000")],
                                 endless())
        assert pulled == 0 and sent[0]["status"] == 401 and (b"connection", b"close") in sent[0]["headers"]
        assert json.loads(sent[1]["body"])["error"]["code"] == "invalid_api_key"


def test_a_good_api_key_reaches_the_view_with_its_body(transactional_db: None) -> None:
    from apps.rbac.selectors import policy_get
    from apps.rbac.services import api_key_create, principal_create

    principal = principal_create(name="bodies", kind="service", policies=[policy_get(name="observer")])
    _, key = api_key_create(principal=principal, name="bodies")
    sent, pulled = asgi_post([(b"authorization", f"Bearer {key}".encode()), (b"content-length", b"2")],
                             iter([b"{}"]))
    assert pulled >= 1 and sent[0]["status"] == 404  # past the key and the body: no such webhook


@pytest.mark.urls(__name__)
def test_a_rest_body_over_the_upload_limit_is_a_413_naming_it(api_client: APIClient,
                                                                  settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post("/api/v1/echo/raw/", {"text": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large" and "1000" in response.json()["error"]["message"]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("depth", [65, 5000])
def test_a_rest_body_nested_deeper_than_the_limit_is_a_400_naming_it(api_client: APIClient, depth: int) -> None:
    body = '{"a": ' + "[" * depth + "]" * depth + "}"
    response = api_client.post("/api/v1/echo/data/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "json_too_deep" and "api.max_json_depth" in error["message"]


@pytest.mark.urls(__name__)
def test_a_rest_body_nested_within_the_limit_is_parsed(api_client: APIClient) -> None:
    body = '{"a": ' + "[" * 63 + "]" * 63 + "}"
    response = api_client.post("/api/v1/echo/data/", body, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"keys": 1}


def test_nothing_the_web_receives_is_written_to_a_temporary_file() -> None:
    assert django_settings.FILE_UPLOAD_MAX_MEMORY_SIZE == django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE == LIMIT
    assert django_settings.FILE_UPLOAD_HANDLERS == ["django.core.files.uploadhandler.MemoryFileUploadHandler"]


@pytest.fixture
def lite_web(tmp_path: Path) -> Iterator[tuple[int, psutil.Process]]:
    """`legion web` in lite mode: Django and the proxy (under /v1) in one process, as `legion start` runs it."""
    port = free_port()
    # Migrated as `legion start` does: the proxy's anonymous caller is a principal in the database.
    subprocess.run([*MANAGE, "migrate"], env=lite_env(tmp_path), check=True, capture_output=True, timeout=120)
    process = subprocess.Popen([*MANAGE, "web", "--port", str(port)], env=lite_env(tmp_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield port, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def head(route: str, *, length: int | None = None) -> str:
    framing = f"content-length: {length}" if length is not None else "transfer-encoding: chunked"
    return f"POST {route} HTTP/1.1\r\nhost: web\r\ncontent-type: application/json\r\n{framing}"


def test_a_served_lite_web_refuses_a_gigabyte_of_body_with_flat_memory(lite_web: tuple[int, psutil.Process]) -> None:
    port, process = lite_web
    before = process.memory_info().rss
    uploads = [
        # An unauthenticated webhook delivery (its signature is in the body, so the body must be read).
        upload_stream(port, head("/api/v1/chains/hooks/anything/", length=GB), total=GB, chunked=False),
        upload_stream(port, head("/api/v1/chains/hooks/anything/"), total=GB, chunked=True),
        upload_stream(port, head("/admin/login/"), total=GB, chunked=True),
        # The proxy under /v1, anonymous as lite mode allows: its own limit, proxy.max_body_bytes.
        upload_stream(port, head("/v1/chat/completions"), total=GB, chunked=True),
    ]
    growth = process.memory_info().rss - before
    assert [upload.status for upload in uploads] == [413] * 4
    assert all(upload.sent <= 64 << 20 for upload in uploads), [upload.sent for upload in uploads]
    assert growth < 50 << 20, f"RSS grew by {growth >> 20} MB"
