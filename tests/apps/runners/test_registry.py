"""Loading extensions from source and syncing them into the database."""

from __future__ import annotations

import pytest

from apps.runners.loader import extensions_load
from apps.runners.models import Extension, Function, Runner
from apps.runners.registry import function_spec_get, registry_load
from apps.runners.services import registry_sync


def test_the_core_extension_is_loaded_with_its_runner_and_functions() -> None:
    loaded = {item.extension.name: item for item in extensions_load().extensions}
    core = loaded["core"]
    assert core.source == "local"
    (basic,) = core.runners
    assert basic.name == "basic"
    assert {spec.name for spec in basic.functions} >= {"log", "wait", "echo", "split", "fail"}
    assert function_spec_get("core.basic.log") is not None
    assert function_spec_get("core.basic.log").resource == "runners/core/basic/log"  # type: ignore[union-attr]


def test_a_broken_extension_is_reported_without_stopping_the_others(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    package = tmp_path / "broken_ext_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    class EntryPoint:
        name, value = "broken", "broken_ext_pkg"

    monkeypatch.setattr("apps.runners.loader.importlib.metadata.entry_points", lambda group: [EntryPoint()])
    result = extensions_load()
    assert "core" in {item.extension.name for item in result.extensions}
    assert "RuntimeError: boom" in result.errors["broken_ext_pkg"]


@pytest.mark.django_db
def test_sync_mirrors_the_registry_and_is_repeatable() -> None:
    first = registry_sync()
    second = registry_sync()
    assert first == second
    assert first["functions"] == Function.objects.filter(available=True).count() >= 5
    log = Function.objects.get(qualified_name="core.basic.log")
    assert log.runner.extension.name == "core"
    assert log.input_schema["required"] == ["message"]
    assert log.resource == "runners/core/basic/log"
    assert Extension.objects.get(name="core").trigger_words == ["core", "log", "wait", "test"]


@pytest.mark.django_db
def test_rows_whose_code_is_gone_are_kept_but_marked_unavailable() -> None:
    registry_sync()
    extension = Extension.objects.create(name="gone", version="0", source="local", synced_at="2024-01-01T00:00Z")
    runner = Runner.objects.create(extension=extension, name="r")
    Function.objects.create(runner=runner, name="f", qualified_name="gone.r.f")
    registry_sync(loaded=registry_load())
    assert Function.objects.get(qualified_name="gone.r.f").available is False
    assert Extension.objects.get(name="gone").available is False
    assert Function.objects.get(qualified_name="core.basic.log").available is True
