"""The pre-compile shape check: what counts towards each limit, and what does not."""

from __future__ import annotations

import pytest

from apps.chains.expressions_shape import Limits, ShapeError, check_shape

LIMITS = Limits(max_length=200, max_nesting=3, max_operators=6, max_comprehension_nesting=1)


def test_brackets_and_operators_inside_strings_and_comments_do_not_count() -> None:
    shape = check_shape("result.s == '((((+ - * /' // [[[[ && || \n && true", LIMITS)
    assert (shape.comprehensions, shape.matches) == (0, False)


def test_the_limit_crossed_is_named_with_where_it_was_crossed() -> None:
    with pytest.raises(ShapeError) as caught:
        check_shape("[[[[1]]]]", LIMITS)
    assert "chains.cel.max_nesting" in caught.value.message and caught.value.offset == 3


def test_comprehensions_count_when_nested_not_when_side_by_side() -> None:
    shape = check_shape("a.all(x, x > 0) && b.map(y, y).size() > 0", LIMITS)
    assert shape.comprehensions == 2
    with pytest.raises(ShapeError, match="chains.cel.max_comprehension_nesting"):
        check_shape("a.all(x, b.exists(y, y == x))", LIMITS)


def test_a_function_named_like_a_macro_is_not_a_comprehension() -> None:
    assert check_shape("map(1) == filter(2)", LIMITS).comprehensions == 0


def test_matches_is_noticed() -> None:
    assert check_shape("result.s.matches('^a+$')", LIMITS).matches
