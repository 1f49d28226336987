"""`legion schedule add|list|fires|enable|disable|remove`: cron and interval schedules from the shell."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from apps.chains.cli import arguments_parse
from apps.chains.services.callers import HOST
from apps.chains.targets import target_by_name
from apps.core.errors import ApplicationError
from apps.schedules.models import CatchUp, Schedule
from apps.schedules.services import schedule_create, schedule_delete, schedule_set_enabled, schedule_ticks


def register(subparsers: argparse._SubParsersAction) -> None:
    schedule = subparsers.add_parser("schedule", help="cron and interval schedules (fired by `legion beat`)")
    commands = schedule.add_subparsers(dest="schedule_command", required=True, metavar="<command>")
    add = commands.add_parser("add", help='add: legion schedule add nightly "0 3 * * *" core.basic.log message=hi')
    add.add_argument("name")
    add.add_argument("when", help='a cron expression ("*/5 * * * *", "@daily") or an interval in seconds ("90")')
    add.add_argument("target", help="a function (ext.runner.function) or, with --chain, a chain name")
    add.add_argument("arguments", nargs="*", help="payload as key=value, as for `legion task run`")
    add.add_argument("--chain", action="store_true", help="the target is a chain")
    add.add_argument("--tz", default="UTC", help="time zone of the cron expression (IANA name)")
    add.add_argument("--catch-up", choices=CatchUp.values, default=CatchUp.ONCE)
    add.add_argument("--as", dest="run_as", default=None, help="principal the runs are authorized as")
    add.set_defaults(handler=schedule_add)
    commands.add_parser("list", help="schedules and their next tick").set_defaults(handler=schedule_list)
    fires = commands.add_parser("fires", help="the latest fires of a schedule")
    fires.add_argument("name")
    fires.add_argument("--limit", type=int, default=20)
    fires.set_defaults(handler=schedule_fires)
    for command, handler, text in (("enable", schedule_enable, "enable (counting from now)"),
                                   ("disable", schedule_disable, "disable"), ("remove", schedule_remove, "delete")):
        parser = commands.add_parser(command, help=f"{text} a schedule")
        parser.add_argument("name")
        parser.set_defaults(handler=handler)


def schedule_add(options: dict[str, Any]) -> int:
    from apps.rbac.selectors import principal_get

    when = options["when"].strip()
    names = (None, options["target"]) if options["chain"] else (options["target"], None)
    try:
        function, chain = target_by_name(*names)
        schedule = schedule_create(
            by=HOST, name=options["name"], cron=None if when.isdigit() else when,
            interval_seconds=int(when) if when.isdigit() else None, timezone_name=options["tz"],
            function=function, chain=chain,
            payload=arguments_parse(options["arguments"]), catch_up=options["catch_up"],
            run_as=principal_get(name=options["run_as"]) if options["run_as"] else None,
        )
    except ApplicationError as exc:
        print(f"legion schedule add: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    print(f"schedule {schedule.name}: {schedule_ticks(schedule=schedule).describe()} -> {schedule.target}")
    return 0


def schedule_list(options: dict[str, Any]) -> int:
    for schedule in Schedule.objects.select_related("function", "chain", "periodic_task__crontab",
                                                    "periodic_task__interval"):
        ticks = schedule_ticks(schedule=schedule)
        upcoming = ticks.next_after(schedule.last_tick_at or schedule.created_at).isoformat(timespec="seconds")
        state = "" if schedule.enabled else " (disabled)"
        print(f"{schedule.name:<28} {ticks.describe():<34} {schedule.target:<32} catch-up {schedule.catch_up:<4} "
              f"next {upcoming}{state}")
    return 0


def schedule_fires(options: dict[str, Any]) -> int:
    schedule = _get(options["name"])
    if schedule is None:
        return 1
    for fire in schedule.fires.order_by("-tick")[: options["limit"]]:
        span = f" .. {fire.until.isoformat(timespec='seconds')} ({fire.count})" if fire.until else ""
        detail = fire.reason or (fire.error or {}).get("message", "") or (f"run {fire.run_id}" if fire.run_id else "")
        print(f"{fire.tick.isoformat(timespec='seconds')}{span}  {fire.status:<10} {detail}")
    return 0


def schedule_enable(options: dict[str, Any]) -> int:
    return _set_enabled(options["name"], True)


def schedule_disable(options: dict[str, Any]) -> int:
    return _set_enabled(options["name"], False)


def schedule_remove(options: dict[str, Any]) -> int:
    schedule = _get(options["name"])
    if schedule is None:
        return 1
    schedule_delete(schedule=schedule)
    print(f"removed schedule {options['name']}")
    return 0


def _set_enabled(name: str, enabled: bool) -> int:
    schedule = _get(name)
    if schedule is None:
        return 1
    schedule_set_enabled(schedule=schedule, enabled=enabled)
    print(f"schedule {name} {'enabled' if enabled else 'disabled'}")
    return 0


def _get(name: str) -> Schedule | None:
    schedule = Schedule.objects.select_related("periodic_task").filter(name=name).first()
    if schedule is None:
        print(f"legion schedule: no schedule named '{name}'", file=sys.stderr)
    return schedule
