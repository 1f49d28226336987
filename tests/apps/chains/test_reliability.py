"""Reliability on the real broker and real worker processes, bounded in time.

The broker is "stopped" by a loopback TCP proxy in front of RabbitMQ (never the machine's RabbitMQ).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest

from apps.chains.models import FINISHED, RunStatus, TaskRun
from apps.chains.services.chains import chain_create
from apps.chains.services.runs import chain_trigger
from apps.core.spool.publisher import publisher
from tests.apps.chains.tcp_proxy import TcpProxy
from tests.apps.jobs import link
from tests.support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("registry")]


def test_a_worker_killed_mid_task_is_redelivered_and_the_chain_continues_once(
    worker_process: Callable[..., Any], operator: Any
) -> None:
    worker = worker_process(concurrency=1)
    chain = chain_create(name="slow")
    link(chain, "core.basic.wait", "core.basic.log", transformation='{"message": "after the wait"}')
    root = chain_trigger(chain=chain, payload={"seconds": 1.5}, principal=operator, triggered_by="test")
    wait_until(lambda: TaskRun.objects.get(pk=root.pk).status == RunStatus.RUNNING, timeout=20, what="the run to start")
    children = psutil.Process(worker.process.pid).children()
    assert len(children) == 1, children
    os.kill(children[0].pid, signal.SIGKILL)  # the pool process executing the task, mid-sleep

    wait_until(lambda: TaskRun.objects.filter(root=root, status__in=FINISHED).exists(), timeout=40,
               what="the chain to finish")
    root.refresh_from_db()
    assert root.status == RunStatus.SUCCEEDED
    assert (root.deliveries, root.lost_deliveries, root.attempts) == (2, 1, 2)
    after = TaskRun.objects.filter(root=root)
    assert [(run.function.qualified_name, run.status) for run in after] == [("core.basic.log", RunStatus.SUCCEEDED)]


def test_runs_triggered_while_the_broker_is_down_all_complete_exactly_once(
    worker_process: Callable[..., Any], operator: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = urlsplit(settings.CELERY_BROKER_URL)
    proxy = TcpProxy((broker.hostname or "127.0.0.1", broker.port or 5672))
    proxy.start()
    netloc = broker.netloc.rsplit(":", 1)[0] if broker.port else broker.netloc
    settings.CELERY_BROKER_URL = urlunsplit(broker._replace(netloc=f"{netloc}:{proxy.port}"))
    monkeypatch.setitem(settings.CONFIG.values, "spool.retry_after_ms", 200)
    monkeypatch.setitem(settings.CONFIG.values, "spool.drain_interval_seconds", 1)
    publisher.cache_clear()  # this process (the "web") publishes through the proxy; the worker does not
    worker_process(concurrency=2)
    chain = chain_create(name="outage")
    link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {"n": int(result.message)}}')
    chain.refresh_from_db()

    roots, slow, spooled_during_outage = [], 0.0, 0
    try:
        for n in range(500):
            if n == 150:
                proxy.stop()
            if n == 350:
                spooled_during_outage = publisher().spool.depth().messages
                proxy.start()
            started = time.monotonic()
            roots.append(chain_trigger(chain=chain, payload={"message": str(n)}, principal=operator,
                                       triggered_by="test").pk)
            slow = max(slow, time.monotonic() - started)
        assert spooled_during_outage > 0, "the outage spooled nothing"
        wait_until(lambda: publisher().spool.depth().messages == 0, timeout=30, what="the drainer to replay the spool")
        wait_until(lambda: TaskRun.objects.filter(status__in=FINISHED).count() == 1000, timeout=150,
                   what="1000 runs to finish")
    finally:
        proxy.stop()
    assert slow < 1.5, f"a trigger waited {slow:.2f}s on the broker"
    runs = TaskRun.objects.all()
    assert runs.filter(status=RunStatus.SUCCEEDED).count() == 1000
    assert runs.filter(parent__isnull=True).count() == 500
    assert not runs.exclude(attempts=1).exists() and not runs.exclude(deliveries=1).exists()
    results = sorted(run.result["n"] for run in runs.filter(function__qualified_name="core.basic.echo"))
    assert results == list(range(500))
