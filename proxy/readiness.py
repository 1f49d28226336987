"""The proxy's part of /readyz and `legion doctor`: the local tier, and which providers the proxy can route to.

Neither is a service Legion needs to be ready: the web, the API and the jobs serve without any provider (a
deployment may run jobs only), and the proxy then answers each request with an error saying how to declare one.
So a missing local tier or no provider at all is a warning; only what stops the proxy or the local model from
starting fails: an invalid provider in the settings file, and, in `legion doctor`, a local model that is enabled
and installed but dies or exits when started (merely slow within the check's bound is a warning).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from apps.core.health import CHECK_TIMEOUT_SECONDS, CheckResult, first_line
from proxy.admin_lineup import admin_entries_read
from proxy.config import providers_list
from proxy.local_model import (
    MODEL_ID,
    PROVIDER_NAME,
    Installation,
    LocalModelError,
    LocalModelTimeout,
    ServerOptions,
    local_model_find,
    local_model_probe,
    local_model_start,
)

LOCAL = "local model"
PROVIDERS = "providers"


def check_local_model() -> CheckResult:
    """The local tier as this process knows it: running at its URL, off, or absent and why. Starts nothing."""
    return _local_model(trial=False)


def check_local_model_trial() -> CheckResult:
    """`legion doctor`'s: when enabled and installed but not running here, start it for a moment to see it answer.

    On a machine where it crashes this names the signal, its last log lines and what to try; /readyz, probed
    every few seconds, never starts a process.
    """
    return _local_model(trial=True)


def _local_model(*, trial: bool) -> CheckResult:
    config = settings.CONFIG.values
    if url := config.get("proxy.local_model.url"):
        if problem := local_model_probe(str(url)):
            return CheckResult(LOCAL, True, f"declared at {url} but {problem}; requests go to other tiers",
                               warning=True)
        return CheckResult(LOCAL, True, f"{MODEL_ID} running at {url}")
    if not config.get("proxy.local_model.enabled"):
        return CheckResult(LOCAL, True, "off (proxy.local_model.enabled is false)")
    discovery = local_model_find()
    if discovery.installation is None:
        return CheckResult(LOCAL, True, f"absent: {discovery.reason}", warning=True)
    if trial:
        return _local_model_try(discovery.installation, config)
    if settings.LEGION_MODE == "lite":
        # `legion start` gives the web its address; without one it could not start it (its note said why).
        return CheckResult(LOCAL, True, "absent: installed but not running (`legion doctor` tries it and says why)",
                           warning=True)
    return CheckResult(LOCAL, True, "installed; each `legion proxy` starts its own")


def _local_model_try(installation: Installation, config: Mapping[str, Any]) -> CheckResult:
    # A free port, so a running `legion start` with a fixed one is not in the way; bounded like every check.
    options = dataclasses.replace(ServerOptions.from_config(config), port=0, startup_timeout=CHECK_TIMEOUT_SECONDS)
    log_path = settings.LEGION_HOME / "local-model-doctor.log"
    try:
        with local_model_start(installation, options, log_path=log_path) as server:
            seconds = server.startup_seconds
    except LocalModelTimeout as exc:  # slow within a check's few seconds, not broken: `legion start` waits longer
        return CheckResult(LOCAL, True, f"not ready within this check's bound: {exc}", warning=True)
    except LocalModelError as exc:
        return CheckResult(LOCAL, False, str(exc))
    return CheckResult(LOCAL, True, f"{MODEL_ID} starts and answers in {seconds:.1f} s ({installation.binary})")


def check_providers() -> CheckResult:
    """The providers the proxy can route to: the settings file's, the admin's, and the local model."""
    config = settings.CONFIG.values
    declared, invalid = providers_list([("settings", config.get("proxy.providers") or [])])
    if invalid:
        return CheckResult(PROVIDERS, False, f"the proxy refuses to start: {'; '.join(invalid)}")
    left_out: list[str] = []
    try:
        admin, left_out = providers_list([("admin", admin_entries_read().providers)])
    except Exception as exc:  # noqa: BLE001 - the database check names the database's problem
        admin, left_out = [], [f"the admin's providers cannot be read ({first_line(exc)})"]
    names = [f"{spec.name} ({source})" for spec, source in [*declared, *admin]]
    if config.get("proxy.local_model.url") or (
            config.get("proxy.local_model.enabled") and local_model_find().installation is not None):
        names.append(f"{PROVIDER_NAME} (the local model, see '{LOCAL}')")
    if not names:
        return CheckResult(PROVIDERS, True, "none declared: the proxy can answer no request; declare one in "
                           "proxy.providers (settings file) or in the admin (LLM providers), or install the "
                           "local model (`./legion start` does)", warning=True)
    detail = f"{len(names)} declared: {', '.join(names)}"
    if left_out:
        detail += f"; left out: {'; '.join(left_out)}"
    return CheckResult(PROVIDERS, True, detail, warning=bool(left_out))
