"""Moving models from one app to another in a migration: their content types follow, so permissions and admin
log entries keep pointing at them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations


def content_types_move(*, models: Sequence[str], old_label: str, new_label: str) -> migrations.RunPython:
    """A reversible operation relabelling the content types of `models` (lowercase names) from one app to another.

    On a fresh database there is nothing to move yet: content types are created after migrate, for the
    new label. A row already there under the new label is left alone rather than clashing with it.
    """

    def relabel(apps: Any, source: str, target: str) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not content_type.objects.filter(app_label=target, model=model).exists():
                content_type.objects.filter(app_label=source, model=model).update(app_label=target)

    return migrations.RunPython(lambda apps, schema_editor: relabel(apps, old_label, new_label),
                                lambda apps, schema_editor: relabel(apps, new_label, old_label))
