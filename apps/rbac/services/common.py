"""What principal and policy writes share: names that are valid resource segments and unique."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, models, transaction

from apps.core.errors import ApplicationError
from apps.rbac.checks import name_check


def name_available_check(model: type[models.Model], name: str, *, instance: models.Model | None = None) -> None:
    """Raise `invalid_name` or `name_taken` (409) unless `name` may be given to `instance` (None: a new row)."""
    name_check(name)
    taken = model._default_manager.filter(name=name)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise _name_taken(model, name)


@contextmanager
def name_unique_atomic(model: type[models.Model], name: str) -> Iterator[None]:
    """A transaction in which a unique-name race (a concurrent insert after our check) reads as `name_taken`."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        if model._default_manager.filter(name=name).exists():
            raise _name_taken(model, name) from exc
        raise


def _name_taken(model: type[models.Model], name: str) -> ApplicationError:
    label = model._meta.verbose_name
    return ApplicationError("name_taken", f"A {label} named {name!r} already exists", field="name", status=409)
