"""`legion actors` (the process that runs them) and `legion actors list|sync|invoke|absorb`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from django.conf import settings

from apps.actors.models import Actor
from apps.actors.services import actor_absorb, actor_invoke, actors_sync
from apps.chains.cli import arguments_parse
from apps.core.errors import ApplicationError


def register(subparsers: argparse._SubParsersAction) -> None:
    actors = subparsers.add_parser("actors", help="run the actors (one process per node), or list, sync, invoke them")
    actors.set_defaults(handler=actors_run)
    commands = actors.add_subparsers(dest="actors_command", metavar="<command>")
    commands.add_parser("run", help="run every enabled actor until stopped (the default)").set_defaults(
        handler=actors_run)
    commands.add_parser("list", help="actors, their kind, target and last activity").set_defaults(handler=actors_list)
    commands.add_parser("sync", help="create or refresh the actors extensions declare").set_defaults(
        handler=actors_sync_command)
    invoke = commands.add_parser("invoke", help="fire an actor now with key=value payload fields")
    invoke.add_argument("name")
    invoke.add_argument("arguments", nargs="*", help="key=value, as for `legion task run`")
    absorb = commands.add_parser("absorb", help="give an absorber an input to route")
    absorb.add_argument("name")
    absorb.add_argument("input")
    for parser, handler in ((invoke, actors_invoke), (absorb, actors_absorb)):
        parser.add_argument("--as", dest="principal", default=os.environ.get("LEGION_PRINCIPAL"),
                            help="RBAC principal to act as (default $LEGION_PRINCIPAL)")
        parser.set_defaults(handler=handler)


def actors_run(options: dict[str, Any]) -> int:
    from apps.actors.runtime import ActorRuntime

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    reload_seconds = settings.CONFIG["actors.reload_interval_seconds"]
    print(f"legion actors: running; picking up changes every {reload_seconds}s", flush=True)
    ActorRuntime(reload_seconds=reload_seconds).run_forever(stop)
    print("legion actors: stopped", flush=True)
    return 0


def actors_list(options: dict[str, Any]) -> int:
    rows = Actor.objects.select_related("function", "chain", "state").order_by("name")
    for actor in rows:
        target = actor.chain.name if actor.chain else actor.function.qualified_name if actor.function else "-"
        state = getattr(actor, "state", None)
        last = state.last_fired_at.isoformat(timespec="seconds") if state and state.last_fired_at else "never"
        flags = "" if actor.enabled and actor.available else " (disabled)" if actor.available else " (unavailable)"
        print(f"{actor.name:<32} {actor.kind:<12} {target:<32} fired {state.fired_count if state else 0} "
              f"last {last}{flags}")
    return 0


def actors_sync_command(options: dict[str, Any]) -> int:
    counts = actors_sync()
    print(f"synced {counts['actors']} declared actor(s); {counts['unavailable']} no longer declared")
    return 0


def actors_invoke(options: dict[str, Any]) -> int:
    return _as_principal(options, lambda actor, principal: actor_invoke(
        actor=actor, payload=arguments_parse(options["arguments"]), principal=principal))


def actors_absorb(options: dict[str, Any]) -> int:
    return _as_principal(options, lambda actor, principal: actor_absorb(
        actor=actor, value=options["input"], principal=principal))


def _as_principal(options: dict[str, Any], action: Any) -> int:
    from apps.rbac.models import Principal

    if not options["principal"]:
        print("legion actors: say who acts: --as <principal> or LEGION_PRINCIPAL", file=sys.stderr)
        return 2
    actor = Actor.objects.filter(name=options["name"]).first()
    if actor is None:
        print(f"legion actors: no actor named '{options['name']}'", file=sys.stderr)
        return 1
    try:
        run = action(actor, Principal.objects.filter(name=options["principal"]).first())
    except ApplicationError as exc:
        print(f"legion actors: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps({"run": str(run.pk), "function": run.function.qualified_name, "status": run.status}))
    return 0
