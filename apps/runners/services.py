"""Runner writes: syncing the registry into the database, and the access check every invocation passes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.runners.loader import LoadResult
from apps.runners.models import Extension, Function, Runner
from apps.runners.registry import registry_load


@transaction.atomic
def registry_sync(*, loaded: LoadResult | None = None) -> dict[str, int]:
    """Upsert every loaded extension, runner and function; mark rows whose code is gone unavailable.

    Rows are never deleted: task runs and relationships keep their foreign keys. Safe to run on
    every start of every process; concurrent syncs serialise on the extension rows they update.
    """
    loaded = loaded or registry_load(reload=True)
    now = timezone.now()
    seen_extensions, seen_runners, seen_functions = set(), set(), set()
    for item in loaded.extensions:
        declared = item.extension
        extension, _ = Extension.objects.update_or_create(
            name=declared.name,
            defaults={
                "version": declared.version, "description": declared.description,
                "trigger_words": list(declared.trigger_words or declared.name.split("_")),
                "capabilities": list(declared.capabilities), "settings_schema": declared.settings_schema,
                "source": item.source, "available": True, "synced_at": now,
            },
        )
        seen_extensions.add(extension.pk)
        for loaded_runner in item.runners:
            runner, _ = Runner.objects.update_or_create(
                extension=extension, name=loaded_runner.name,
                defaults={"description": loaded_runner.description,
                          "trigger_words": list(loaded_runner.trigger_words), "available": True},
            )
            seen_runners.add(runner.pk)
            for spec in loaded_runner.functions:
                function, _ = Function.objects.update_or_create(
                    qualified_name=spec.qualified_name,
                    defaults={
                        "runner": runner, "name": spec.name, "description": spec.description,
                        "input_schema": spec.input_schema, "output_schema": spec.output_schema,
                        "idempotent": spec.idempotent, "risk_tier": spec.risk_tier,
                        "trigger_words": list(spec.trigger_words), "max_attempts": spec.max_attempts,
                        "backoff_seconds": spec.backoff_seconds, "available": True,
                    },
                )
                seen_functions.add(function.pk)
    Extension.objects.exclude(pk__in=seen_extensions).update(available=False)
    Runner.objects.exclude(pk__in=seen_runners).update(available=False)
    Function.objects.exclude(pk__in=seen_functions).update(available=False)
    return {"extensions": len(seen_extensions), "runners": len(seen_runners), "functions": len(seen_functions)}


def check_functions_execute(*, principal: Any, functions: Sequence[Function]) -> None:
    """Raise unless `principal` may execute every one of `functions`: the one RBAC call, never a local rule."""
    from apps.rbac.authorization import authorize_each

    decisions = authorize_each(principal, "execute", [function.resource for function in functions])
    for function, decision in zip(functions, decisions, strict=True):
        if not decision.allowed:
            raise ApplicationError("permission_denied",
                                   f"not allowed to execute {function.qualified_name}: {decision.reason}", status=403)
