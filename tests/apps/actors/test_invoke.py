"""Actors invoked directly: `nothing` actors, absorbers routing inputs, and the checks on saving any actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.actors.models import Actor
from apps.actors.poll import result_changed
from apps.actors.services import actor_absorb, actor_create, actor_invoke
from apps.chains.models import TaskRun
from apps.chains.services.callers import HOST
from apps.core.errors import ApplicationError
from tests.apps.jobs import drive, function

pytestmark = pytest.mark.django_db

ROUTES = {"handlers": [
    {"pattern": r"^https://status\.example\.com/", "function": "core.basic.log", "payload_key": "message"},
    {"pattern": r"^https://(?P<host>[^/]+)/", "function": "core.basic.echo", "payload_key": "url"},
]}


def test_a_nothing_actor_runs_only_when_invoked_as_the_caller(
    make_actor: Callable[..., Actor], operator: Any
) -> None:
    actor = make_actor("nothing", run_as=None)
    run = actor_invoke(actor=actor, payload={"level": "warning"}, principal=operator)
    assert (run.payload, run.principal, run.triggered_by) == ({"message": "hi", "level": "warning"}, "ops", "actor")
    assert drive() == ["succeeded"]


def test_invoking_needs_the_right_to_run_the_function(make_actor: Callable[..., Actor], observer: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        actor_invoke(actor=make_actor("nothing"), payload={}, principal=observer)
    assert (caught.value.code, caught.value.status) == ("permission_denied", 403)


def test_an_absorber_routes_an_input_to_the_first_matching_handler(
    make_actor: Callable[..., Actor], operator: Any
) -> None:
    actor = make_actor("absorber", function=None, payload={}, options=ROUTES)
    status = actor_absorb(actor=actor, value="https://status.example.com/down", principal=operator)
    other = actor_absorb(actor=actor, value="https://legion.dev/docs", principal=operator)
    assert (status.function.qualified_name, status.payload) == (
        "core.basic.log", {"message": "https://status.example.com/down"})
    assert (other.function.qualified_name, other.payload) == (
        "core.basic.echo", {"url": "https://legion.dev/docs", "host": "legion.dev"})


def test_an_input_no_handler_matches_is_refused(make_actor: Callable[..., Actor], operator: Any) -> None:
    actor = make_actor("absorber", function=None, payload={}, options=ROUTES)
    with pytest.raises(ApplicationError) as caught:
        actor_absorb(actor=actor, value="ftp://old.example.com", principal=operator)
    assert (caught.value.code, caught.value.status, caught.value.field) == ("no_handler", 422, "input")
    assert not TaskRun.objects.exists()


@pytest.mark.timeout(20)
def test_a_pattern_that_backtracks_in_pythons_re_matches_a_crafted_input_in_linear_time(
    make_actor: Callable[..., Actor], operator: Any
) -> None:
    # With Python's re, `(a+)+$` against 'a' * 40 + 'b' takes hours; RE2 answers at once that nothing matches.
    # The timeout mark bounds the test: a backtracking engine would hit it.
    routes = {"handlers": [{"pattern": r"^(a+)+$", "function": "core.basic.log", "payload_key": "message"}]}
    actor = make_actor("absorber", function=None, payload={}, options=routes)
    with pytest.raises(ApplicationError) as caught:
        actor_absorb(actor=actor, value="a" * 40 + "b", principal=operator)
    assert caught.value.code == "no_handler"


@pytest.mark.parametrize(("kind", "values", "code", "field"), [
    ("every", {"options": {"interval_seconds": 0}}, "invalid_options", "options.interval_seconds"),
    ("every", {"options": {"interval": 5}}, "invalid_options", "options.interval"),
    ("poll", {"options": {"tolerance_percent": -1}}, "invalid_options", "options.tolerance_percent"),
    ("subscription", {"options": {}}, "invalid_options", "options.queue"),
    ("absorber", {"function": None, "options": {"handlers": [{"pattern": "(", "function": "core.basic.log"}]}},
     "invalid_options", "options.handlers.0.pattern"),
    ("absorber", {"function": None, "options": {"handlers": [{"pattern": r"(\w)\1", "function": "core.basic.log"}]}},
     "invalid_options", "options.handlers.0.pattern"),  # a backreference needs backtracking: not RE2
    ("absorber", {"function": None, "options": {"handlers": [{"pattern": "x", "function": "core.basic.nope"}]}},
     "not_found", "options.handlers.0"),
    ("absorber", {"options": ROUTES}, "invalid_target", "function"),
    ("every", {"function": None}, "invalid_target", "function"),
    ("sometimes", {}, "invalid_kind", "kind"),
])
def test_a_bad_actor_is_refused_naming_the_field(
    registry: None, kind: str, values: dict[str, Any], code: str, field: str
) -> None:
    fields = {"function": function("core.basic.log"), **values}
    with pytest.raises(ApplicationError) as caught:
        actor_create(by=HOST, name="bad", kind=kind, **fields)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert not Actor.objects.exists()


@pytest.mark.parametrize(("old", "new", "tolerance", "changed"), [
    ({"a": 1}, {"a": 1}, 0, False),
    ({"a": 1}, {"a": 2}, 0, True),
    ({"price": 100.0}, {"price": 104.0}, 5, False),
    ({"price": 100.0}, {"price": 106.0}, 5, True),
    ({"items": [1, 2]}, {"items": [1, 2, 3]}, 50, True),
    ({"up": True}, {"up": 1}, 0, True),
    ({"a": 1}, {"b": 1}, 0, True),
    (0, 0.001, 100, True),
])
def test_poll_results_change_beyond_the_tolerance(old: Any, new: Any, tolerance: float, changed: bool) -> None:
    assert result_changed(old, new, tolerance) is changed
