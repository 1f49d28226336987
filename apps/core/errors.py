"""The one application error type; free of web imports so models and services can raise it."""

from __future__ import annotations


class ApplicationError(Exception):
    """A failure a client can act on: a stable code, a message and optionally the offending field.

    The REST API's exception handler (apps/core/api/errors.py) turns it into the JSON envelope.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
