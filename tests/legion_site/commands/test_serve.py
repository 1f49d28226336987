"""`legion start` on an empty data directory brings up lite mode: admin, API, schema, readiness and proxy."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from proxy.local_model import MODEL_ID, local_model_find
from tests.support import MANAGE, free_port, full_env, lite_env, wait_for


@dataclass
class Lite:
    base: str
    username: str
    password: str
    process: subprocess.Popen[str]
    env: dict[str, str]
    home: Path


def read_banner(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            return "".join(lines)
    raise AssertionError("legion start never printed its banner:\n" + "".join(lines[-40:]))


@pytest.fixture(scope="module")
def lite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lite]:
    home = tmp_path_factory.mktemp("lite-home")
    port = free_port()
    env = lite_env(home, LEGION_WEB_PORT=str(port))
    process = subprocess.Popen(
        [*MANAGE, "start"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        banner = read_banner(process, timeout=120)
        match = re.search(r"user '(?P<user>[^']+)', password '(?P<password>[^']+)'", banner)
        assert match, banner
        yield Lite(f"http://127.0.0.1:{port}", match["user"], match["password"], process, env, home)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_readyz_answers_200_with_lite_dependencies(lite: Lite) -> None:
    response = httpx.get(f"{lite.base}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert set(checks) == {"database", "broker", "cache", "spool", "providers", "local model"}
    if local_model_find().installation is not None:  # `legion start` gave the web its address
        assert checks["local model"]["detail"].startswith(f"{MODEL_ID} running at http://127.0.0.1:")
        assert not checks["local model"]["warning"] and "legion-local" in checks["providers"]["detail"]


def test_the_lite_worker_runs_a_task_through_the_filesystem_broker(lite: Lite) -> None:
    result = subprocess.run(
        [*MANAGE, "task", "run", "core.basic.log", "message=hello from lite", "--as", lite.username,
         "--wait", "60", "--json"],
        env=lite.env, capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    run = json.loads(result.stdout)
    assert run["status"] == "succeeded"
    assert run["attempts"] == 1


LITE_CHAIN = """
import json
from apps.chains.models import Chain, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import chain_create, relationship_create
from apps.chains.services.runs import chain_trigger
from apps.rbac.authorization import principal_for_user
from apps.runners.models import Function
from django.contrib.auth import get_user_model
from tests.support import wait_until

echo, log = (Function.objects.get(qualified_name=name) for name in ("core.basic.echo", "core.basic.log"))
chain = chain_create(name="lite-chain")
relationship_create(by=HOST, chain=chain, trigger=echo, action=log, condition="result.level == 'info'",
                    transformation='{"message": "hello " + result.who, "level": result.level}')
admin = principal_for_user(get_user_model().objects.get(username="%s"))
root = chain_trigger(chain=Chain.objects.get(pk=chain.pk), payload={"data": {"who": "lite", "level": "info"}},
                     principal=admin, triggered_by="test")


def finished():
    runs = list(TaskRun.objects.filter(root_id=root.pk)) + [TaskRun.objects.get(pk=root.pk)]
    return runs if len(runs) == 2 and all(run.finished for run in runs) else None


runs = wait_until(finished, timeout=60, what="the chain's two runs to finish", interval=0.2)
print(json.dumps([[run.status, run.payload] for run in sorted(runs, key=lambda run: run.created_at)]))
"""


def test_the_lite_worker_runs_a_chain_step_by_step_on_sqlite(lite: Lite) -> None:
    # SQLite has no data-modifying WITH: the claim and the finish with its children take their other path.
    result = subprocess.run([*MANAGE[:-1], "shell", "-c", LITE_CHAIN % lite.username], env=lite.env,
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr + result.stdout
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        ["succeeded", {"data": {"level": "info", "who": "lite"}}],
        ["succeeded", {"level": "info", "message": "hello lite"}],
    ]


@contextlib.contextmanager
def admin_session(lite: Lite) -> Iterator[httpx.Client]:
    """A client logged in to the admin with the printed credentials."""
    with httpx.Client(base_url=lite.base, timeout=30, follow_redirects=True) as client:
        client.get("/admin/login/")
        client.post("/admin/login/?next=/admin/", headers={"Referer": f"{lite.base}/admin/login/"}, data={
            "username": lite.username, "password": lite.password, "csrfmiddlewaretoken": client.cookies["csrftoken"]})
        yield client


def test_admin_accepts_the_printed_credentials(lite: Lite) -> None:
    with admin_session(lite) as session:
        response = session.get("/admin/")
    assert response.status_code == 200
    assert str(response.url).endswith("/admin/")
    assert "Site administration" in response.text


def test_the_printed_password_is_kept_nowhere_in_plain_text(lite: Lite) -> None:
    # The SQLite file holds only Django's hash of it; the secrets, logs and broker folders hold nothing of it.
    files = [path for path in lite.home.rglob("*") if path.is_file() and path.stat().st_size < 64 * 1024 * 1024]
    assert files and not [path for path in files if lite.password.encode() in path.read_bytes()]
    assert not (lite.home / "secrets" / "admin_password").exists()


def test_api_root_and_openapi_schema_load(lite: Lite) -> None:
    root = httpx.get(f"{lite.base}/api/v1/", timeout=10)
    anonymous = httpx.get(f"{lite.base}/api/v1/schema/", params={"format": "json"}, timeout=30)
    with admin_session(lite) as session:
        schema = session.get("/api/v1/schema/", params={"format": "json"})
        docs = session.get("/api/v1/docs/")
    assert anonymous.status_code == 401
    assert root.status_code == 200 and {"schema", "docs", "rbac", "runners", "chains", "proxy"} <= set(root.json())
    assert root.json()["chains"]["runs"].endswith("/api/v1/chains/runs/")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_proxy_lists_models_as_json(lite: Lite) -> None:
    response = httpx.get(f"{lite.base}/v1/models", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list" and isinstance(body["data"], list)


def test_local_model_answers_a_chat_completion_through_the_proxy(lite: Lite) -> None:
    if local_model_find().installation is None:
        pytest.skip("the local model is not installed (requirements/local-model.txt)")
    models = httpx.get(f"{lite.base}/v1/models", timeout=10).json()
    response = httpx.post(f"{lite.base}/v1/chat/completions", timeout=60, json={
        "model": "auto", "messages": [{"role": "user", "content": "Say hello."}], "temperature": 0, "max_tokens": 8})
    assert MODEL_ID in [model["id"] for model in models["data"]]
    assert response.status_code == 200, response.text
    assert response.headers["x-legion-tier"] == "local" and response.headers["x-legion-model"] == MODEL_ID
    body = response.json()
    assert body["choices"][0]["message"]["content"] and body["usage"]["completion_tokens"] > 0


def test_start_refuses_full_mode(test_database: str) -> None:
    result = subprocess.run([*MANAGE, "start"], env=full_env(test_database), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "legion start runs lite mode" in result.stderr


def test_full_mode_proxy_runs_the_local_model_only_while_it_runs(test_database: str) -> None:
    if local_model_find().installation is None:
        pytest.skip("the local model is not installed (requirements/local-model.txt)")
    port = free_port()
    proxy = subprocess.Popen(
        [*MANAGE, "proxy", "--port", str(port)], env=full_env(test_database, LEGION_PROXY_LOCAL_MODEL_ENABLED="true"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proxy.stdout is not None
        note = proxy.stdout.readline()
        match = re.search(r"at (?P<url>http://127\.0\.0\.1:\d+)/v1", note)
        assert match, note
        wait_for(f"http://127.0.0.1:{port}/v1/models", proxy)
        assert httpx.get(f"{match['url']}/health", timeout=5).status_code == 200
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
    assert proxy.returncode == 0, "SIGTERM stops `legion proxy` cleanly, local model included"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{match['url']}/health", timeout=2)


@pytest.mark.django_db(transaction=True)
def test_full_mode_web_process_serves_api_with_keys_and_readiness(test_database: str) -> None:
    from apps.rbac.selectors import policy_get
    from apps.rbac.services import api_key_create, principal_create

    principal = principal_create(name="ci-observer", kind="service", policies=[policy_get(name="observer")])
    _, key = api_key_create(principal=principal, name="ci")
    port = free_port()
    web = subprocess.Popen(
        [*MANAGE, "web", "--port", str(port)], env=full_env(test_database),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        ready = wait_for(f"{base}/readyz", web)
        anonymous = httpx.get(f"{base}/api/v1/rbac/me/", timeout=10)
        keyed = httpx.get(f"{base}/api/v1/rbac/me/", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        proxy_route = httpx.get(f"{base}/v1/models", timeout=10)
    finally:
        web.terminate()
        web.wait(timeout=20)
    assert ready.status_code == 200, ready.text
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    assert keyed.status_code == 200 and keyed.json()["principal"]["name"] == "ci-observer"
    assert proxy_route.status_code == 404, "full mode serves the proxy from `legion proxy`, not the web"


def test_admin_login_and_api_docs_render_in_a_real_browser(lite: Lite, page: Page, tmp_path: Path) -> None:
    page.goto(f"{lite.base}/admin/login/")
    page.fill("#id_username", lite.username)
    page.fill("#id_password", lite.password)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Site administration" in page.content()

    # Swagger UI is served from the sidecar package, so it renders with no network at all.
    page.goto(f"{lite.base}/api/v1/docs/")
    title = page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert title is not None and "Legion API" in title.inner_text()
    assert page.locator(".opblock-tag").count() > 0
    page.screenshot(path=str(tmp_path / "api-docs.png"))
