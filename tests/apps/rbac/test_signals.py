"""RBAC's change version: bumped after commit, where every process reads it (a file in lite mode, the cache in full)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.test.utils import override_settings

from apps.rbac.signals import rbac_version_aget, rbac_version_bump

pytestmark = pytest.mark.django_db

Capture = Callable[..., object]


@pytest.mark.parametrize("where", ["file", "cache"])
def test_a_bump_after_commit_changes_the_version_every_process_reads(
        tmp_path: Path, where: str, django_capture_on_commit_callbacks: Capture) -> None:
    version_file = tmp_path / "rbac.version" if where == "file" else None
    with override_settings(RBAC_VERSION_FILE=version_file):
        before = async_to_sync(rbac_version_aget)()
        with django_capture_on_commit_callbacks(execute=False) as pending:  # type: ignore[attr-defined]
            rbac_version_bump()
        unchanged = async_to_sync(rbac_version_aget)()
        for callback in pending:
            callback()

        after = async_to_sync(rbac_version_aget)()

    assert unchanged == before and after not in (None, before)
    assert version_file is None or version_file.read_text() == after
