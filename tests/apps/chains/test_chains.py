"""Chains: relationships checked on save, conditions, transformations, fan-out, delays, scoping, versions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.chains.models import Chain, RunStatus, TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import chain_clone, chain_create, chain_entry_function, chain_set_enabled
from apps.chains.services.runs import run_execute
from apps.core.errors import ApplicationError
from tests.apps.jobs import drive, link, run_create

pytestmark = pytest.mark.usefixtures("registry")


@pytest.fixture
def chain() -> Chain:
    return chain_create(name="greetings")


def test_a_relationship_with_a_condition_and_transformation_runs_the_action(chain: Chain) -> None:
    link(chain, "core.basic.log", "core.basic.log", condition="result.level == 'warning'",
         transformation='{"message": "seen: " + result.message, "level": "info"}')
    root = run_create("core.basic.log", {"message": "disk full", "level": "warning"}, chain=chain)
    assert drive() == ["succeeded", "succeeded"]
    child = TaskRun.objects.get(parent=root)
    assert child.result == {"message": "seen: disk full", "level": "info"}
    assert (child.root_id, child.chain_id, child.chain_version, child.triggered_by) == (
        root.pk, chain.pk, chain.version, "chain")


def test_a_false_condition_leaves_a_skipped_row(chain: Chain) -> None:
    link(chain, "core.basic.log", "core.basic.wait", condition="result.level == 'error'",
         transformation='{"seconds": 0}')
    root = run_create("core.basic.log", {"message": "fine"}, chain=chain)
    assert drive() == ["succeeded"]
    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.SKIPPED and child.finished_at is not None


def test_a_list_result_fans_out_one_child_per_element(chain: Chain) -> None:
    link(chain, "core.basic.split", "core.basic.log", condition="result.index != 1",
         transformation='{"message": string(result.value)}')
    root = run_create("core.basic.split", {"items": ["a", "b", "c"]}, chain=chain)
    drive()
    children = TaskRun.objects.filter(parent=root).order_by("idempotency_key")
    assert [(c.status, (c.result or {}).get("message")) for c in children] == [
        (RunStatus.SUCCEEDED, "a"), (RunStatus.SKIPPED, None), (RunStatus.SUCCEEDED, "c")]
    assert [c.idempotency_key.rsplit(":", 1)[1] for c in children] == ["0", "1", "2"]


def test_fan_out_beyond_the_limit_fails_the_trigger_and_starts_nothing(
    chain: Chain, config: Callable[[str, Any], None]
) -> None:
    config("chains.fanout_limit", 2)
    link(chain, "core.basic.split", "core.basic.echo", transformation='{"data": {"v": result.value}}')
    root = run_create("core.basic.split", {"items": [1, 2, 3]}, chain=chain)
    assert drive() == ["failed"]
    root.refresh_from_db()
    assert root.error["code"] == "fanout_limit"
    assert root.result is not None and not TaskRun.objects.filter(parent=root).exists()


def test_a_transformation_that_breaks_the_action_schema_fails_the_child_naming_the_field(chain: Chain) -> None:
    link(chain, "core.basic.log", "core.basic.wait", transformation='{"seconds": "soon"}')
    run_create("core.basic.log", {"message": "m"}, chain=chain)
    drive()
    child = TaskRun.objects.get(function__qualified_name="core.basic.wait")
    assert child.status == RunStatus.FAILED
    assert (child.error["code"], child.error["field"]) == ("validation_error", "seconds")


def test_a_delayed_relationship_holds_the_child_until_its_time(chain: Chain) -> None:
    link(chain, "core.basic.log", "core.basic.log", delay_seconds=600)
    root = run_create("core.basic.log", {"message": "later"}, chain=chain)
    assert drive(ignore_delays=False) == ["succeeded"]
    child = TaskRun.objects.get(parent=root)
    assert child.status == RunStatus.QUEUED
    assert (child.not_before - root.created_at).total_seconds() > 590
    assert run_execute(run_id=str(child.pk)) == "early"  # a replay that lost its ETA waits again


def test_relationships_fire_only_within_their_chain_unless_they_may_start_new_chains() -> None:
    mine, other, opener = (chain_create(name=n) for n in ("mine", "other", "opener"))
    link(other, "core.basic.log", "core.basic.echo", transformation='{"data": {"from": "other"}}')
    link(opener, "core.basic.log", "core.basic.echo", transformation='{"data": {"from": "opener"}}',
         allow_new_chains=True)
    run_create("core.basic.log", {"message": "m"}, chain=mine)
    drive()
    echoes = TaskRun.objects.filter(function__qualified_name="core.basic.echo")
    assert [(e.result, e.chain_id) for e in echoes] == [({"from": "opener"}, opener.pk)]


def test_a_disabled_chain_does_not_fire(chain: Chain) -> None:
    link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {}}')
    chain_set_enabled(chain=chain, enabled=False)
    root = run_create("core.basic.log", {"message": "m"}, chain=chain)
    drive()
    assert not TaskRun.objects.filter(parent=root).exists()


def test_saving_an_expression_that_does_not_compile_reports_the_position(chain: Chain) -> None:
    with pytest.raises(ApplicationError) as caught:
        link(chain, "core.basic.log", "core.basic.echo", condition="result.level ==")
    assert (caught.value.code, caught.value.field) == ("invalid_condition", "condition")
    assert "line 1, column 16" in caught.value.message


def test_saving_an_expression_naming_a_field_the_trigger_lacks_is_refused(chain: Chain) -> None:
    with pytest.raises(ApplicationError) as caught:
        link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {"m": result.mesage}}')
    assert caught.value.code == "invalid_transformation"
    assert "mesage" in caught.value.message and "column 23" in caught.value.message
    assert not chain.relationships.exists()


def test_an_llm_transformation_is_saved_with_its_instruction_and_refused_without_one(chain: Chain) -> None:
    saved = link(chain, "core.basic.log", "core.basic.echo", transformation="summarise it", transformation_kind="llm")
    with pytest.raises(ApplicationError) as caught:
        link(chain, "core.basic.log", "core.basic.echo", transformation=" ", transformation_kind="llm")
    assert saved.transformation_kind == "llm"
    assert caught.value.code == "invalid_transformation" and caught.value.field == "transformation"


def test_every_relationship_change_bumps_the_version_and_a_clone_copies_them(chain: Chain) -> None:
    link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {}}')
    link(chain, "core.basic.echo", "core.basic.wait", transformation='{"seconds": 0}')
    chain.refresh_from_db()
    assert chain.version == 3
    assert chain_entry_function(chain=chain).qualified_name == "core.basic.log"
    clone = chain_clone(by=HOST, chain=chain, name="greetings-2")
    assert (clone.version, clone.enabled, clone.cloned_from_id) == (1, False, chain.pk)
    assert sorted(r.transformation for r in clone.relationships.all()) == ['{"data": {}}', '{"seconds": 0}']
