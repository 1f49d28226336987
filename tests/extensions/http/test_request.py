"""The http extension against real loopback HTTP servers: requests, limits, and SSRF refusals unless a policy allows."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from apps.chains.models import RunStatus, TaskRun
from extensions.http.client import Limits, Outgoing, exchange
from extensions.http.guard import address_category
from tests.extensions.conftest import authorizer_for, policy_principal, principal_with

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

EXECUTE_RUNNERS = {"path": "runners*", "actions": ["execute"]}
LOOPBACK = {"path": "network/loopback/*", "actions": ["execute"]}


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", threaded=True) as started:
        yield started


@pytest.fixture
def other_server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", threaded=True) as started:
        yield started


@pytest.fixture
def local_ok(db: None) -> Any:
    """A principal that may run functions and reach every loopback port."""
    return policy_principal("local-ok", EXECUTE_RUNNERS, LOOPBACK)


def test_a_loopback_target_is_refused_without_a_network_policy(runner: Callable[..., TaskRun],
                                                               server: HTTPServer) -> None:
    server.expect_request("/status").respond_with_json({"ok": True})
    operator = principal_with("ops", "operator")

    run = runner("http.request.get", {"url": server.url_for("/status")}, operator)

    assert run.status == RunStatus.FAILED and run.error is not None
    assert run.error["code"] == "network_refused"
    assert "network/loopback/127.0.0.1/" in run.error["message"]
    assert server.log == [], "nothing was sent"


def test_a_run_without_a_principal_cannot_reach_loopback(runner: Callable[..., TaskRun], server: HTTPServer) -> None:
    run = runner("http.request.get", {"url": server.url_for("/")}, None)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "network_refused"


def test_a_name_that_resolves_to_loopback_is_refused_too_and_allowed_by_the_policy(
    runner: Callable[..., TaskRun], server: HTTPServer, local_ok: Any,
) -> None:
    server.expect_request("/", headers={"Host": f"localhost:{server.port}"}).respond_with_data("by name")
    url = f"http://localhost:{server.port}/"

    refused = runner("http.request.get", {"url": url}, principal_with("ops", "operator"))
    allowed = runner("http.request.get", {"url": url}, local_ok)

    assert refused.status == RunStatus.FAILED and refused.error is not None
    assert refused.error["code"] == "network_refused"
    assert allowed.status == RunStatus.SUCCEEDED and allowed.result is not None
    assert allowed.result["body"] == "by name"


def test_a_policy_allowing_loopback_lets_the_request_through(runner: Callable[..., TaskRun], server: HTTPServer,
                                                             local_ok: Any) -> None:
    server.expect_request("/status", query_string="verbose=1").respond_with_json(
        {"ok": True}, headers={"X-Served-By": "test"})

    run = runner("http.request.get", {"url": server.url_for("/status"), "params": {"verbose": "1"}}, local_ok)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result is not None
    assert run.result["status"] == 200 and run.result["json"] == {"ok": True}
    assert run.result["headers"]["x-served-by"] == "test" and run.result["redirects"] == 0
    assert run.result["url"] == server.url_for("/status") + "?verbose=1"


def test_the_policy_may_allow_one_port_and_a_redirect_to_another_is_refused(
    runner: Callable[..., TaskRun], server: HTTPServer, other_server: HTTPServer,
) -> None:
    one_port = policy_principal("one-port", EXECUTE_RUNNERS,
                                {"path": f"network/loopback/127.0.0.1/{server.port}", "actions": ["execute"]})
    server.expect_request("/same").respond_with_data("", status=302, headers={"Location": "/final"})
    server.expect_request("/final").respond_with_data("arrived")
    server.expect_request("/away").respond_with_data(
        "", status=302, headers={"Location": other_server.url_for("/secret")})
    other_server.expect_request("/secret").respond_with_data("secret")

    followed = runner("http.request.get", {"url": server.url_for("/same")}, one_port)
    refused = runner("http.request.get", {"url": server.url_for("/away")}, one_port)

    assert followed.status == RunStatus.SUCCEEDED and followed.result is not None
    assert followed.result["body"] == "arrived" and followed.result["redirects"] == 1
    assert refused.status == RunStatus.FAILED and refused.error is not None
    assert refused.error["code"] == "network_refused" and f"/{other_server.port}" in refused.error["message"]
    assert other_server.log == []


def test_a_redirect_to_the_cloud_metadata_address_is_refused(runner: Callable[..., TaskRun], server: HTTPServer,
                                                             local_ok: Any) -> None:
    server.expect_request("/go").respond_with_data(
        "", status=301, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    run = runner("http.request.get", {"url": server.url_for("/go")}, local_ok)

    assert run.status == RunStatus.FAILED and run.error is not None
    assert run.error["code"] == "network_refused" and "link-local" in run.error["message"]


def test_only_http_and_https_are_allowed(runner: Callable[..., TaskRun], local_ok: Any) -> None:
    run = runner("http.request.get", {"url": "file:///etc/passwd"}, local_ok)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "network_refused"


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected(
    server: HTTPServer, local_ok: Any,
) -> None:
    # A rebinding resolver: loopback (allowed) for the first lookup, a private address for any later one.
    answers = [["127.0.0.1"], ["10.255.255.1"]]
    lookups: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return answers[min(len(lookups) - 1, 1)]

    server.expect_request("/", headers={"Host": f"rebind.test:{server.port}"}).respond_with_data("pinned")
    answer = exchange(Outgoing("GET", f"http://rebind.test:{server.port}/", {}, {}, None),
                      limits=Limits(timeout=5, max_bytes=1024, max_redirects=0), authorize=authorizer_for(local_ok),
                      resolve=rebinding)

    assert answer["status"] == 200 and answer["body"] == "pinned"
    assert lookups == ["rebind.test"]


def test_a_name_with_one_public_and_one_private_address_is_refused(local_ok: Any) -> None:
    from extensions.http.guard import NetworkRefused

    with pytest.raises(NetworkRefused, match="private"):
        exchange(Outgoing("GET", "http://mixed.test/", {}, {}, None),
                 limits=Limits(timeout=5, max_bytes=1024, max_redirects=0), authorize=authorizer_for(local_ok),
                 resolve=lambda host, port: ["93.184.215.14", "192.168.1.10"])


@pytest.mark.parametrize(("address", "category"), [
    ("8.8.8.8", None), ("2606:4700::1111", None),
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("2002:7f00:1::1", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
    ("192.168.0.1", "private"), ("100.64.0.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("64:ff9b::a9fe:a9fe", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.1", "multicast"),
    ("192.0.2.1", "reserved"), ("255.255.255.255", "reserved"), ("198.18.0.1", "reserved"),
])
def test_addresses_are_classified_by_where_they_lead(address: str, category: str | None) -> None:
    assert address_category(ipaddress.ip_address(address)) == category


def test_a_response_over_the_size_limit_fails_the_run(runner: Callable[..., TaskRun], server: HTTPServer,
                                                      local_ok: Any) -> None:
    server.expect_request("/big").respond_with_data("x" * 4096)

    def chunked(request: Request) -> Response:
        return Response((b"y" * 512 for _ in range(8)), direct_passthrough=True)

    server.expect_request("/stream").respond_with_handler(chunked)

    declared = runner("http.request.get", {"url": server.url_for("/big"), "max_bytes": 1024}, local_ok)
    counted = runner("http.request.get", {"url": server.url_for("/stream"), "max_bytes": 1024}, local_ok)

    for run in (declared, counted):
        assert run.status == RunStatus.FAILED and run.error is not None
        assert run.error["code"] == "response_too_large"


def test_a_call_cannot_raise_the_configured_size_limit(runner: Callable[..., TaskRun], server: HTTPServer,
                                                        local_ok: Any, config: Callable[[str, Any], None]) -> None:
    config("extensions.http.max_response_bytes", 100)
    server.expect_request("/").respond_with_data("z" * 200)
    run = runner("http.request.get", {"url": server.url_for("/"), "max_bytes": 10_000}, local_ok)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "response_too_large"


def test_a_slow_server_times_out_and_the_get_is_retried(runner: Callable[..., TaskRun], server: HTTPServer,
                                                        local_ok: Any) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    server.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()

    run = runner("http.request.get", {"url": server.url_for("/slow"), "timeout_seconds": 0.3}, local_ok)

    assert time.monotonic() - started < 1.4
    assert run.status == RunStatus.QUEUED and run.attempts == 1, "a timeout is worth another attempt"
    assert run.error is not None and run.error["code"] == "function_error" and "Timeout" in run.error["message"]


def test_send_posts_json_with_the_runs_idempotency_key(runner: Callable[..., TaskRun], server: HTTPServer,
                                                       local_ok: Any) -> None:
    server.expect_request("/orders", method="POST", json={"sku": "A-1", "quantity": 2}).respond_with_json(
        {"id": 7}, status=201)

    run = runner("http.request.send", {"method": "POST", "url": server.url_for("/orders"),
                                       "json_body": {"sku": "A-1", "quantity": 2},
                                       "idempotency_header": "Idempotency-Key"}, local_ok)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result is not None and run.result["status"] == 201 and run.result["json"] == {"id": 7}
    (request, _), = server.log
    assert request.headers["Idempotency-Key"] == run.idempotency_key
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.data) == {"sku": "A-1", "quantity": 2}


def test_credentials_are_not_forwarded_to_another_origin(server: HTTPServer, other_server: HTTPServer,
                                                         local_ok: Any) -> None:
    server.expect_request("/login").respond_with_data("", status=307, headers={"Location": other_server.url_for("/")})
    other_server.expect_request("/").respond_with_data("there")

    answer = exchange(Outgoing("GET", server.url_for("/login"), {"Authorization": "Bearer s3cret", "X-Trace": "1"},
                               {}, None),
                      limits=Limits(timeout=5, max_bytes=1024, max_redirects=2), authorize=authorizer_for(local_ok))

    assert answer["body"] == "there"
    (request, _), = other_server.log
    assert "Authorization" not in request.headers and request.headers["X-Trace"] == "1"


def test_fail_on_status_turns_a_404_into_a_failed_run(runner: Callable[..., TaskRun], server: HTTPServer,
                                                      local_ok: Any) -> None:
    server.expect_request("/missing").respond_with_data("no", status=404)

    plain = runner("http.request.get", {"url": server.url_for("/missing")}, local_ok)
    strict = runner("http.request.get", {"url": server.url_for("/missing"), "fail_on_status": True}, local_ok)

    assert plain.status == RunStatus.SUCCEEDED and plain.result is not None and plain.result["status"] == 404
    assert strict.status == RunStatus.FAILED and strict.error is not None and strict.error["code"] == "http_status"


def test_too_many_redirects_fail_the_run(runner: Callable[..., TaskRun], server: HTTPServer, local_ok: Any,
                                         config: Callable[[str, Any], None]) -> None:
    config("extensions.http.max_redirects", 2)
    server.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    run = runner("http.request.get", {"url": server.url_for("/loop")}, local_ok)
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "too_many_redirects"


def certificate_authority(tmp_path: Path, name: str) -> tuple[Path, ssl.SSLContext]:
    """(a CA certificate file, a server TLS context with a certificate for `name` signed by that CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def issue(subject: str, key: Any, issuer: Any, issuer_key: Any, *, ca: bool) -> Any:
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Legion test CA")])
    ca = issue("Legion test CA", ca_key, ca_name, ca_key, ca=True)
    leaf = issue(name, leaf_key, ca_name, ca_key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    return tmp_path / "ca.pem", server


def test_tls_to_the_pinned_address_is_verified_against_the_name(tmp_path: Path, local_ok: Any) -> None:
    ca_file, server_context = certificate_authority(tmp_path, "service.test")
    limits = Limits(timeout=5, max_bytes=1024, max_redirects=0)

    def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    with HTTPServer(host="127.0.0.1", ssl_context=server_context) as tls:
        tls.expect_request("/").respond_with_data("secure")
        answer = exchange(Outgoing("GET", f"https://service.test:{tls.port}/", {}, {}, None), limits=limits,
                          authorize=authorizer_for(local_ok), resolve=loopback, ca_file=str(ca_file))
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            exchange(Outgoing("GET", f"https://other.test:{tls.port}/", {}, {}, None), limits=limits,
                     authorize=authorizer_for(local_ok), resolve=loopback, ca_file=str(ca_file))
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            exchange(Outgoing("GET", f"https://service.test:{tls.port}/", {}, {}, None), limits=limits,
                     authorize=authorizer_for(local_ok), resolve=loopback)  # certifi does not know the test CA

    assert answer["status"] == 200 and answer["body"] == "secure"
    assert answer["url"] == f"https://service.test:{tls.port}/"


def test_the_next_checked_address_is_tried_when_one_refuses_connections(server: HTTPServer, local_ok: Any) -> None:
    server.expect_request("/").respond_with_data("second address")

    def two(host: str, port: int) -> list[str]:
        return ["127.0.0.2", "127.0.0.1"]  # nothing listens on 127.0.0.2 at this port

    answer = exchange(Outgoing("GET", f"http://two.test:{server.port}/", {}, {}, None),
                      limits=Limits(timeout=5, max_bytes=1024, max_redirects=0), authorize=authorizer_for(local_ok),
                      resolve=two)
    assert answer["body"] == "second address"
