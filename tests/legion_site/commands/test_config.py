"""`legion config`: effective values with sources, and the reference table docs/settings.md carries."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from legion_site.commands.config import settings_reference
from tests.support import ROOT


def test_docs_carry_the_current_settings_reference() -> None:
    docs = (ROOT / "docs" / "settings.md").read_text()
    assert settings_reference() in docs, "regenerate the table with `./legion config --reference`"


def test_effective_settings_show_sources_and_mask_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("legion", "config")
    out = capsys.readouterr().out
    assert "mode" in out and '"full"' in out and "variable LEGION_MODE" in out
    assert "secret_key" in out and "(set)" in out
    assert "test-only-secret-key" not in out


def test_reference_lists_each_setting_once(tmp_path: Path) -> None:
    rows = [line for line in settings_reference().splitlines()[2:]]
    keys = [row.split("|")[1].strip(" `") for row in rows]
    assert len(keys) == len(set(keys))
    assert "database.url" in keys
