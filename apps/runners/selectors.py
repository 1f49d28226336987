"""Runner reads: extensions and functions as the API and admin list them."""

from __future__ import annotations

from functools import lru_cache

from django.db.models import QuerySet

from apps.core.errors import ApplicationError
from apps.runners.models import Extension, Function


def extension_list() -> QuerySet[Extension]:
    return Extension.objects.prefetch_related("runners__functions")


def function_list() -> QuerySet[Function]:
    return Function.objects.select_related("runner__extension")


def function_get(*, qualified_name: str) -> Function:
    function = function_list().filter(qualified_name=qualified_name).first()
    if function is None:
        raise ApplicationError("not_found", f"no runner function '{qualified_name}'", status=404)
    return function


@lru_cache(maxsize=4096)
def function_name_get(*, function_id: int) -> str:
    """A function's qualified name by id, read once per process: rows are keyed by that name and never renamed."""
    return Function.objects.values_list("qualified_name", flat=True).get(pk=function_id)
