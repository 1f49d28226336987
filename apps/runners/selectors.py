"""Runner reads: extensions and functions as the API and admin list them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.models import QuerySet

from apps.core.errors import ApplicationError
from apps.core.masking import credentials_mask
from apps.rbac.authorization import authorize
from apps.rbac.models import Principal
from apps.rbac.selectors import principal_queryset
from apps.runners.definitions import Authorizer
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


def function_content_readable(*, function: Function, principal: Principal | None) -> bool:
    """Whether `principal` sees its runs' payloads and results whole: `read_content` on the function."""
    return authorize(principal, "read_content", function.resource).allowed


def run_authorizer(*, principal: str) -> Authorizer:
    """`RunContext.authorizer` for a run acting for the principal named `principal` ("" for none, refused).

    The principal is read when a question is asked, not when the run starts: most functions never ask,
    and each answer reflects the principal's policies as they are then.
    """
    def authorized(action: str, resource: str) -> bool:
        found = principal_queryset().filter(name=principal).first() if principal else None
        return authorize(found, action, resource).allowed

    return authorized


def run_content_shown(*, function: Function, payload: Any, result: Any, readable: bool) -> tuple[Any, Any]:
    """A run's payload and result as a reader sees them: whole when `readable`, else with what the function's
    schemas mark `writeOnly`, credential-named fields and URL passwords masked."""
    if readable:
        return payload, result
    return (credentials_mask(payload, schema=function.input_schema),
            credentials_mask(result, schema=function.output_schema))
