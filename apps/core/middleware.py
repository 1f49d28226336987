"""Middleware of the whole site: requests refused before any view sees them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core.api.errors import error_response


class RejectNulMiddleware:
    """A NUL in the path or query string is a 400 `invalid_character`: views look rows up by what they find
    there (names, prefixes, filters), and PostgreSQL text cannot hold a NUL, so the query would fail as a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                         for key, values in request.GET.lists() for value in values):
            return error_response("invalid_character", "NUL characters are not allowed in the path or query",
                                  status=400)
        return self.get_response(request)
