"""`legion catalog`: the capability catalog from source, JSON and Markdown, with counts."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command

from apps.runners.catalog import catalog_build, catalog_markdown


def test_the_catalog_counts_what_it_lists() -> None:
    catalog = catalog_build()
    extensions = catalog["extensions"]
    runners = [r for e in extensions for r in e["runners"]]
    assert catalog["counts"] == {
        "extensions": len(extensions), "runners": len(runners),
        "functions": sum(len(r["functions"]) for r in runners),
    }
    log = next(f for r in runners for f in r["functions"] if f["qualified_name"] == "core.basic.log")
    assert log["resource"] == "runners/core/basic/log" and log["idempotent"] is True


def test_markdown_has_a_row_per_function() -> None:
    catalog = catalog_build()
    markdown = catalog_markdown(catalog)
    assert markdown.count("\n| `") == catalog["counts"]["functions"]
    assert "| `core.basic.wait` |" in markdown


def test_legion_catalog_writes_both_files(tmp_path: Path) -> None:
    call_command("legion", "catalog", "--output", str(tmp_path))
    written = json.loads((tmp_path / "catalog.json").read_text())
    assert written["counts"] == catalog_build()["counts"]
    assert (tmp_path / "catalog.md").read_text().startswith("# Legion capability catalog")
