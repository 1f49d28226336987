"""Runner-function declarations: schemas from type hints, validation naming the field, metadata recorded."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import Field
from typing_extensions import TypedDict

from apps.runners.definitions import (
    SPEC_ATTRIBUTE,
    Extension,
    FunctionInputError,
    FunctionSpec,
    RunContext,
    runner_function,
)


class Greeting(TypedDict):
    text: str
    length: int


@runner_function(idempotent=True, risk_tier="high", trigger_words=("greet",), max_attempts=4, backoff_seconds=0.5)
def greet(name: str, ctx: RunContext, times: Annotated[int, Field(ge=1, le=3)] = 1,
          tone: Literal["warm", "dry"] = "warm") -> Greeting:
    """Say hello."""
    text = " ".join([f"hello {name}"] * times)
    ctx.log(text)
    return {"text": text, "length": len(text)}


def spec() -> FunctionSpec:
    return getattr(greet, SPEC_ATTRIBUTE)


def context() -> RunContext:
    return RunContext(run_id="r1", idempotency_key="k1", attempt=1, function="t.t.greet")


def test_input_schema_is_derived_from_type_hints_without_the_context_parameter() -> None:
    schema = spec().input_schema
    assert schema["required"] == ["name"]
    assert set(schema["properties"]) == {"name", "times", "tone"}
    assert schema["properties"]["times"]["maximum"] == 3
    assert schema["properties"]["tone"]["enum"] == ["warm", "dry"]
    assert schema["additionalProperties"] is False


def test_output_shape_and_metadata_are_recorded() -> None:
    declared = spec()
    assert declared.output_schema["properties"]["length"] == {"title": "Length", "type": "integer"}
    assert declared.description == "Say hello."
    assert (declared.idempotent, declared.risk_tier, declared.trigger_words) == (True, "high", ("greet",))
    assert (declared.max_attempts, declared.backoff_seconds, declared.wants_context) == (4, 0.5, True)


def test_call_validates_and_passes_the_context() -> None:
    ctx = context()
    assert spec().call({"name": "ada", "times": 2}, ctx) == {"text": "hello ada hello ada", "length": 19}
    assert ctx.log_lines == [{"level": "info", "message": "hello ada hello ada"}]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "name"), ({"name": "a", "times": 9}, "times"), ({"name": "a", "tone": "loud"}, "tone"),
     ({"name": "a", "extra": 1}, "extra"), ({"name": ["not", "a", "string"]}, "name")],
)
def test_a_payload_that_breaks_the_schema_names_the_field(payload: dict[str, object], field: str) -> None:
    with pytest.raises(FunctionInputError) as caught:
        spec().call(payload, context())
    assert caught.value.field == field


def test_a_payload_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(FunctionInputError) as caught:
        spec().validate(["name"])
    assert caught.value.field is None


def test_a_parameter_without_type_hint_is_refused_at_declaration() -> None:
    with pytest.raises(TypeError, match="'loose' has no type hint"):
        runner_function()(lambda loose: loose)


def test_unknown_risk_tiers_and_capabilities_are_refused() -> None:
    with pytest.raises(ValueError, match="risk_tier"):
        runner_function(risk_tier="extreme")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown capabilities"):
        Extension(name="x", version="1", description="", capabilities=("telepathy",))
