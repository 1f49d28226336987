"""The checks behind /readyz and `legion doctor`: core's services and the proxy's, chosen for this mode.

Named by the LEGION_READINESS_CHECKS setting, so apps/core/health.py runs them without naming the proxy.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from apps.core.health import (
    CheckResult,
    check_broker,
    check_cache,
    check_channel_layer,
    check_database,
    check_pgvector,
    check_spool,
)
from proxy.readiness import check_local_model, check_local_model_trial, check_providers


def checks_for_mode(*, local_model_trial: bool = False) -> list[Callable[[], CheckResult]]:
    """This mode's checks; with `local_model_trial` (doctor) the local model is started for a moment if need be."""
    local_model = check_local_model_trial if local_model_trial else check_local_model
    base = [check_database, check_broker, check_cache, check_spool, check_providers, local_model]
    if settings.LEGION_MODE == "full":
        return [*base, check_pgvector, check_channel_layer]
    return base
