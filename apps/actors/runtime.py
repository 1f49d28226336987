"""`legion actors`: one thread per running actor, reconciled with the database every few seconds.

Added, changed (a new row version), disabled and deleted actors are picked up within
`actors.reload_interval_seconds`; a changed actor's thread is stopped and started again with the
new settings. A thread that crashes is recorded on the actor and restarted at the next pass. Each
thread uses its own database connection, closed when it ends.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.db import close_old_connections, connection
from django.utils import timezone

from apps.actors.base import ActorSnapshot
from apps.actors.firing import actor_error
from apps.actors.kinds import actor_type
from apps.actors.models import ActorState
from apps.actors.services import actors_runnable, actors_sync
from apps.core.leases import holder_id
from apps.core.spool.publisher import publisher

logger = logging.getLogger("legion.actors")

JOIN_SECONDS = 10.0


@dataclass
class Running:
    snapshot: ActorSnapshot
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    crashed: bool = False


class ActorRuntime:
    def __init__(self, *, reload_seconds: float) -> None:
        self.reload_seconds = reload_seconds
        self.node = holder_id()
        self.running: dict[int, Running] = {}

    def run_forever(self, stop: threading.Event) -> None:
        """Sync the extensions' declarations, then keep the running threads in line with the database."""
        counts = actors_sync()
        logger.info("actors: %d declared by extensions; node %s", counts["actors"], self.node)
        publisher().drainer_ensure()
        try:
            while not stop.is_set():
                try:
                    self.reconcile()
                except Exception:  # the database may be away; try again next pass
                    logger.exception("actors: could not reload the actors")
                stop.wait(self.reload_seconds)
        finally:
            self.stop_all()

    def reconcile(self) -> None:
        close_old_connections()
        wanted = {snapshot.id: snapshot for snapshot in actors_runnable()}
        for actor_id, running in list(self.running.items()):
            current = wanted.get(actor_id)
            if current is None or current.version != running.snapshot.version or running.crashed:
                self._stop(actor_id)
        for actor_id, snapshot in wanted.items():
            if actor_id not in self.running:
                self._start(snapshot)
        ActorState.objects.filter(actor_id__in=list(self.running)).update(node=self.node,
                                                                          heartbeat_at=timezone.now())

    def stop_all(self) -> None:
        for running in self.running.values():
            running.stop.set()
        for actor_id in list(self.running):
            self._stop(actor_id)

    def _start(self, snapshot: ActorSnapshot) -> None:
        running = Running(snapshot=snapshot)
        running.thread = threading.Thread(target=self._body, args=(running,), name=f"actor-{snapshot.name}",
                                          daemon=True)
        self.running[snapshot.id] = running
        running.thread.start()
        logger.info("actor %s (%s) started", snapshot.name, snapshot.kind)

    def _stop(self, actor_id: int) -> None:
        running = self.running.pop(actor_id)
        running.stop.set()
        if running.thread is not None:
            running.thread.join(JOIN_SECONDS)
            if running.thread.is_alive():
                logger.warning("actor %s did not stop within %.0fs", running.snapshot.name, JOIN_SECONDS)
        logger.info("actor %s stopped", running.snapshot.name)

    @staticmethod
    def _body(running: Running) -> None:
        snapshot = running.snapshot
        try:
            actor_type(snapshot.kind).run(snapshot, running.stop)
        except Exception as exc:  # recorded; the next reconcile restarts the actor
            running.crashed = True
            logger.exception("actor %s crashed", snapshot.name)
            actor_error(actor_id=snapshot.id, exc=exc)
        finally:
            connection.close()
