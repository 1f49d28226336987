"""Who sees a run's content whole: `read_content` on its function, held by admin and operator, not observer."""

from __future__ import annotations

from typing import Any

import pytest

from apps.runners.models import Function
from apps.runners.selectors import function_content_readable
from apps.runners.services import registry_sync
from tests.apps.jobs import principal_with


@pytest.fixture(autouse=True)
def registry(db: None) -> None:
    registry_sync()


@pytest.mark.parametrize(("policy", "readable"), [
    ("admin", True), ("operator", True), ("observer", False), ("worker", False),
])
def test_read_content_on_a_function_belongs_to_admin_and_operator(policy: str, readable: bool, db: Any) -> None:
    function = Function.objects.get(qualified_name="http.request.get")

    assert function_content_readable(function=function, principal=principal_with(f"p-{policy}", policy)) is readable
    assert function_content_readable(function=function, principal=None) is False
