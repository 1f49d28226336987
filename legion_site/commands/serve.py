"""`legion start` (lite: everything in one command) and `legion web|proxy|worker|beat` (one process each)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command

from apps.rbac.services import admin_bootstrap
from legion_site.commands.supervisor import Child, child_start, children_alive, children_supervise
from proxy.local_model import MODEL_ID, URL_VARIABLE, Launch, local_model_launch, local_model_running

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def register(subparsers: argparse._SubParsersAction) -> None:
    start = subparsers.add_parser("start", help="lite mode: web, admin, API, proxy, worker, beat and actors together")
    start.set_defaults(handler=start_lite)

    web = subparsers.add_parser("web", help="the web, admin and REST API (ASGI)")
    web.add_argument("--host", default=settings.CONFIG["web.host"])
    web.add_argument("--port", type=int, default=settings.CONFIG["web.port"])
    web.add_argument("--workers", type=int, default=1)
    web.set_defaults(handler=serve_web)

    proxy = subparsers.add_parser("proxy", help="the LLM proxy (ASGI, uvloop + httptools)")
    proxy.add_argument("--host", default=settings.CONFIG["proxy.host"])
    proxy.add_argument("--port", type=int, default=settings.CONFIG["proxy.port"])
    proxy.add_argument("--workers", type=int, default=1)
    proxy.set_defaults(handler=serve_proxy)

    worker = subparsers.add_parser("worker", help="a Celery worker")
    worker.add_argument("--concurrency", type=int, default=None)
    worker.add_argument("--queues", default=None, help="comma-separated queues to consume")
    worker.add_argument("--beat", action="store_true", help="also run beat inside this worker (lite)")
    worker.add_argument("--name", default=None,
                        help="Celery node name (default legion-<pid>@<host>: unique per process on a host)")
    worker.set_defaults(handler=serve_worker)

    beat = subparsers.add_parser("beat", help="the Celery beat scheduler (schedules from the database)")
    beat.set_defaults(handler=serve_beat)


def serve_web(options: dict[str, Any]) -> int:
    return _uvicorn("legion_site.asgi:application", options)


def serve_proxy(options: dict[str, Any]) -> int:
    # Lite mode's proxy lives inside `legion start`, which owns the local model; full mode's is this process.
    if settings.LEGION_MODE != "full":
        return _uvicorn("proxy.asgi:application", options)
    with local_model_running(settings.CONFIG.values, log_path=settings.LEGION_HOME / "local-model.log") as local:
        print(f"legion: {local.note}", flush=True)
        if local.server is not None:
            _proxy_local_model_register(local.server.url)
            # uvicorn re-raises the SIGTERM that stopped it once it has shut down; as an exception it lets this
            # block stop the local model instead of killing the process around it.
            signal.signal(signal.SIGTERM, _exit_on_signal)
        return _uvicorn("proxy.asgi:application", options)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _proxy_local_model_register(url: str) -> None:
    """Settings were loaded before the server existed: rebuild this process's; uvicorn's workers read the variable."""
    # Imported here: the other commands need not load the proxy.
    from proxy.config import proxy_settings_build
    from proxy.runtime import lineup_build, runtime_configure

    os.environ[URL_VARIABLE] = url
    proxy_settings = proxy_settings_build({**settings.CONFIG.values, "proxy.local_model.url": url})
    lineup_build(proxy_settings)  # aliases naming no model stop `legion proxy` here, as they would without it
    runtime_configure(proxy_settings)


def _uvicorn(app: str, options: dict[str, Any]) -> int:
    import uvicorn

    uvicorn.run(
        app, host=options["host"], port=options["port"], workers=options["workers"],
        loop="uvloop", http="httptools", lifespan="off", log_level="info", access_log=False,
    )
    return 0


def serve_worker(options: dict[str, Any]) -> int:
    from legion_site.celery import app

    # Two workers on one host with Celery's default name fight over the same exclusive pidbox queue.
    name = options["name"] or f"legion-{os.getpid()}@%h"
    argv = ["worker", "--loglevel=INFO", "--without-mingle", "--without-gossip", f"--hostname={name}"]
    if options["concurrency"]:
        argv.append(f"--concurrency={options['concurrency']}")
    if options["queues"]:
        argv.append(f"--queues={options['queues']}")
    if options["beat"]:
        argv += ["--beat", f"--schedule={settings.LEGION_HOME / 'celerybeat-schedule'}"]
    app.worker_main(argv)
    return 0


def serve_beat(options: dict[str, Any]) -> int:
    from legion_site.celery import app

    # The scheduler is CELERY_BEAT_SCHEDULER: leased, exact ticks with catch-up, fires through the spool.
    app.start(["beat", "--loglevel=INFO"])
    return 0


def start_lite(options: dict[str, Any]) -> int:
    """Prepare the database and static files, then run web (with the proxy), worker (with beat) and actors.

    The children are supervised together: when one exits (named, with its exit code or signal and its last
    lines), or on Ctrl-C/SIGTERM, all are stopped.
    """
    if settings.LEGION_MODE != "lite":
        print("legion start runs lite mode; in full mode run `legion web`, `legion proxy`, "
              "`legion worker` and `legion beat` as separate processes.", file=sys.stderr)
        return 2
    settings.LEGION_HOME.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    credentials = admin_bootstrap(secrets_dir=settings.LEGION_HOME / "secrets")
    host, port = settings.CONFIG["web.host"], settings.CONFIG["web.port"]
    # Started first and supervised with the others; the web child (which serves the proxy) learns its address.
    local = local_model_launch(settings.CONFIG.values, log_path=settings.LEGION_HOME / "local-model.log")
    print(f"legion: {local.note}", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **({URL_VARIABLE: local.server.url} if local.server else {})}
    command = [sys.executable, MANAGE, "legion"]
    children = [
        *([Child("local model (llama-server)", local.server.process, log_path=local.server.log_path)]
          if local.server else []),
        child_start("web", [*command, "web", "--host", host, "--port", str(port)], env),
        child_start("worker", [*command, "worker", "--beat", "--concurrency", "2"], env),
        child_start("actors", [*command, "actors"], env),
    ]
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    base = f"http://{host}:{port}"
    if _wait_healthy(f"{base}/healthz", children, timeout=60):
        _print_banner(base, credentials, local)
    return children_supervise(children, stopping=lambda: stopping)


def _wait_healthy(url: str, children: list[Child], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and children_alive(children):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _print_banner(base: str, credentials: tuple[str, str | None], local: Launch) -> None:
    username, password = credentials
    # The password exists in clear only on the start that generated it; later starts cannot show it.
    login = (f"password '{password}' (shown once: note it now)" if password
             else "password shown on first start (`legion admin reset-password` sets a new one)")
    model = f"model '{MODEL_ID}' (or 'auto'), served by {local.url}" if local.url else "absent (see above)"
    print(
        f"\nLegion is up (lite mode, data in {settings.LEGION_HOME})\n"
        f"  web + admin   {base}/admin/   user '{username}', {login}\n"
        f"  REST API      {base}/api/v1/   docs {base}/api/v1/docs/\n"
        f"  LLM proxy     {base}/v1   (OpenAI and Anthropic base URL)\n"
        f"  local tier    {model}\n"
        f"  health        {base}/healthz   {base}/readyz\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
