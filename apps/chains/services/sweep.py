"""The run sweeper: publishes again the runs that should be moving and are not.

A queued run's message is normally on the broker or in a spool, and a running run normally has a live
holder. Not always: a worker killed between committing a step and publishing its children (whose
redelivered message then finds its run finished), a spool file evicted by its bounds, a broker that
lost a queue, a database crash that forgot asynchronous step writes (services/rows.py). The leading
beat sweeps every half `chains.sweep_after_seconds`; `legion spool requeue` sweeps on demand.

Publishing a run again is always safe: its claim turns a duplicate away. A run still waiting in a long
backlog past the threshold gets one duplicate message per threshold, which costs its claim one read.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from apps.chains.models import RunStatus, TaskRun
from apps.chains.services.dispatch import run_publish
from apps.chains.services.holders import holder_alive

logger = logging.getLogger(__name__)


def runs_sweep(*, after_seconds: int, limit: int = 1000) -> int:
    """Publish again, oldest first, up to `limit` runs stalled for `after_seconds`; returns how many were sent.

    Stalled: queued and due for that long, or (on PostgreSQL, where a holder's liveness can be known)
    running for that long with its holder gone. Each run is sent at most once per `after_seconds`, and a
    sweep stops at the first message the broker does not take (spooled: the rest would only fill the spool).
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=after_seconds)
    not_swept_lately = Q(swept_at__isnull=True) | Q(swept_at__lt=cutoff)
    queued = TaskRun.objects.filter(not_swept_lately, Q(not_before__isnull=True) | Q(not_before__lt=cutoff),
                                    status=RunStatus.QUEUED, created_at__lt=cutoff)
    stalled = list(queued.order_by("created_at").values_list("pk", flat=True)[:limit])
    if connection.vendor == "postgresql":
        running = TaskRun.objects.filter(not_swept_lately, status=RunStatus.RUNNING, started_at__lt=cutoff)
        candidates = running.order_by("started_at").values_list("pk", "holder")[:limit]
        alive: dict[int | None, bool] = {}
        for run_id, holder in candidates:
            if holder not in alive:
                alive[holder] = holder_alive(holder)
            if not alive[holder]:
                stalled.append(run_id)
    sent = []
    for run_id in stalled[:limit]:
        sent.append(run_id)
        if run_publish(run_id=str(run_id)) == "spooled":
            logger.warning("run sweep stopped: the broker is not taking messages")
            break
    TaskRun.objects.filter(pk__in=sent).update(swept_at=now)
    return len(sent)
