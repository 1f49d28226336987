"""`legion task run|show|cancel` and `legion spool status|drain|requeue`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from apps.chains.selectors import run_get, run_tree
from apps.chains.serializers import TaskRunSerializer
from apps.chains.services.runs import run_cancel, run_trigger
from apps.chains.services.sweep import runs_sweep
from apps.core.errors import ApplicationError
from apps.core.spool.publisher import publisher
from apps.rbac.models import Principal
from apps.runners.selectors import function_get


def register(subparsers: argparse._SubParsersAction) -> None:
    task = subparsers.add_parser("task", help="run a runner function, show or cancel a task run")
    commands = task.add_subparsers(dest="task_command", required=True, metavar="<command>")
    run = commands.add_parser("run", help="run <ext.runner.function> with key=value arguments")
    run.add_argument("function", help="qualified name, e.g. core.basic.log")
    run.add_argument("arguments", nargs="*", help="key=value (values are JSON when they parse, else text; "
                                                  "dotted keys nest: data.a=1)")
    run.add_argument("--as", dest="principal", default=os.environ.get("LEGION_PRINCIPAL"),
                     help="RBAC principal to act as (default $LEGION_PRINCIPAL)")
    run.add_argument("--idempotency-key", default=None)
    run.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="wait for the run to finish")
    run.add_argument("--json", action="store_true")
    run.set_defaults(handler=task_run)

    show = commands.add_parser("show", help="a task run and the tree of runs below it")
    show.add_argument("run_id")
    show.add_argument("--as", dest="principal", default=os.environ.get("LEGION_PRINCIPAL"),
                      help="RBAC principal whose view to show: sensitive fields need read_content "
                           "(default $LEGION_PRINCIPAL; none: masked)")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=task_show)

    cancel = commands.add_parser("cancel", help="cancel a queued run (and a root's queued descendants)")
    cancel.add_argument("run_id")
    cancel.set_defaults(handler=task_cancel)

    spool = subparsers.add_parser("spool", help="the disk spool of messages waiting for the broker")
    spool_commands = spool.add_subparsers(dest="spool_command", required=True, metavar="<command>")
    spool_commands.add_parser("status", help="files, messages and bytes waiting").set_defaults(handler=spool_status)
    spool_commands.add_parser("drain", help="replay the spool now, oldest first").set_defaults(handler=spool_drain)
    requeue = spool_commands.add_parser(
        "requeue", help="publish again runs stalled longer than --older-than: queued and due, or running with "
                        "their worker gone")
    requeue.add_argument("--older-than", type=int, default=300, metavar="SECONDS")
    requeue.set_defaults(handler=spool_requeue)


def arguments_parse(pairs: list[str]) -> dict[str, Any]:
    """`a=1 b=text c.d=[1,2]` -> {"a": 1, "b": "text", "c": {"d": [1, 2]}}."""
    payload: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ApplicationError("invalid", f"expected key=value, got '{pair}'", field=pair)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        target = payload
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return payload


def task_run(options: dict[str, Any]) -> int:
    if not options["principal"]:
        print("legion task run: say who runs it: --as <principal> or LEGION_PRINCIPAL", file=sys.stderr)
        return 2
    principal = _principal(options)
    try:
        payload = arguments_parse(options["arguments"])
        run = run_trigger(function=function_get(qualified_name=options["function"]), payload=payload,
                          principal=principal, triggered_by="cli", idempotency_key=options["idempotency_key"])
    except ApplicationError as exc:
        print(f"legion task run: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    deadline = time.monotonic() + options["wait"]
    while options["wait"] and not run.finished and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    _print_run(run, principal, as_json=options["json"])
    return 0 if run.status in ("queued", "running", "succeeded") else 1


def task_show(options: dict[str, Any]) -> int:
    try:
        run = run_get(run_id=options["run_id"])
    except ApplicationError as exc:
        print(f"legion task show: {exc.message}", file=sys.stderr)
        return 1
    principal = _principal(options)
    if options["json"]:
        data = TaskRunSerializer(run, context={"principal": principal}).data
        print(json.dumps({**data, "tree": run_tree(run=run)}, default=str, indent=2))
        return 0
    _print_run(run, principal, as_json=False)
    print("tree:")
    _print_tree(run_tree(run=run), depth=1)
    return 0


def task_cancel(options: dict[str, Any]) -> int:
    try:
        count = run_cancel(run=run_get(run_id=options["run_id"]))
    except ApplicationError as exc:
        print(f"legion task cancel: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(f"cancelled {count} run(s)")
    return 0


def spool_status(options: dict[str, Any]) -> int:
    depth = publisher().spool.depth()
    print(f"{publisher().spool.directory}: {depth.files} file(s), {depth.messages} message(s), {depth.bytes} bytes")
    return 0


def spool_drain(options: dict[str, Any]) -> int:
    try:
        sent = publisher().drain()
    except Exception as exc:  # noqa: BLE001 - the broker's own error is the message
        print(f"legion spool drain: broker not reachable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"replayed {sent} message(s)")
    return 0


def spool_requeue(options: dict[str, Any]) -> int:
    print(f"published {runs_sweep(after_seconds=options['older_than'])} stalled run(s) again")
    return 0


def _principal(options: dict[str, Any]) -> Principal | None:
    return Principal.objects.filter(name=options["principal"]).first() if options["principal"] else None


def _print_run(run: Any, principal: Principal | None, *, as_json: bool) -> None:
    data = TaskRunSerializer(run, context={"principal": principal}).data
    if as_json:
        print(json.dumps(data, default=str, indent=2))
        return
    print(f"run {data['id']}  {data['function']}  {data['status']}  attempts {data['attempts']}")
    if data["result"] is not None:
        print(f"result: {json.dumps(data['result'])}")
    if data["error"]:
        print(f"error: {json.dumps(data['error'])}")


def _print_tree(node: dict[str, Any], depth: int) -> None:
    print(f"{'  ' * depth}{node['function']}  {node['status']}  {node['id']}")
    for child in node["children"]:
        _print_tree(child, depth + 1)
