"""CEL checks on save (with positions) and evaluation."""

from __future__ import annotations

import pytest

from apps.chains.expressions import Environment, ExpressionError, expression_check, expression_evaluate

RESULT = {
    "type": "object",
    "properties": {"status": {"type": "integer"}, "body": {"type": "string"},
                   "tags": {"type": "array", "items": {"type": "string"}}},
}
ENV = Environment(result=RESULT, payload={"type": "object", "additionalProperties": True})


@pytest.mark.parametrize("source", ["result.status == 200", "size(result.tags) > 0 && index < 3",
                                    "result.body.startsWith('ok') || payload.anything == 1"])
def test_well_typed_conditions_pass(source: str) -> None:
    expression_check(source, ENV, expect="bool")


def test_a_syntax_error_reports_its_line_and_column() -> None:
    with pytest.raises(ExpressionError) as caught:
        expression_check("result.status ==", ENV, expect="bool")
    assert (caught.value.line, caught.value.column) == (1, 17)


def test_a_field_the_trigger_does_not_have_is_named_with_its_position() -> None:
    with pytest.raises(ExpressionError) as caught:
        expression_check("result.status == 200 &&\n result.stauts == 1", ENV, expect="bool")
    assert "stauts" in caught.value.message
    assert (caught.value.line, caught.value.column) == (2, 9)


def test_operators_on_the_wrong_types_are_refused() -> None:
    with pytest.raises(ExpressionError, match="type error"):
        expression_check("result.body + 1 == 2", ENV, expect="bool")


def test_a_condition_must_be_boolean_and_a_transformation_an_object() -> None:
    with pytest.raises(ExpressionError, match="true or false"):
        expression_check("result.status", ENV, expect="bool")
    with pytest.raises(ExpressionError, match="build an object"):
        expression_check("result.body", ENV, expect="object")
    expression_check('{"code": result.status, "items": result.tags.map(t, {"t": t})}', ENV, expect="object")


def test_unknown_variables_are_refused() -> None:
    with pytest.raises(ExpressionError, match="unknown variable 'response'"):
        expression_check("response.status == 200", ENV, expect="bool")


def test_fields_of_open_objects_cannot_be_checked_so_only_compile() -> None:
    expression_check("payload.whatever > 2", ENV, expect="bool")


def test_evaluation_against_real_data() -> None:
    assert expression_evaluate("result.status >= 400", {"result": {"status": 503}}) is True
    with pytest.raises(ExpressionError, match="no field"):
        expression_evaluate("result.missing == 1", {"result": {}})
