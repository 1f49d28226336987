"""The built-in policies (admin, operator, worker, observer, anonymous), the built-in `anonymous` principal,
and the idempotent writes that install them.

Pure data plus one function over a model class, so the data migration (historical model) and
`policy_builtin_ensure()` (post-migrate, current model) share it. `docs/rbac.md` spells out each role;
change both together.

`ns*` below is the idiom for "the collection `ns` and everything under it" (`tasks`, `tasks/42`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ADMIN = "admin"
OPERATOR = "operator"
WORKER = "worker"
OBSERVER = "observer"
ANONYMOUS = "anonymous"  # both the principal callers without a key act as, and its initial policy

Rule = tuple[str, tuple[str, ...]]
_READ = ("read", "list")


@dataclass(frozen=True)
class BuiltinPolicy:
    name: str
    description: str
    rules: tuple[Rule, ...]
    deny: tuple[Rule, ...] = ()

    def document(self) -> dict[str, Any]:
        """The model fields, as fresh JSON-ready lists (deny rules without actions deny everything)."""
        return {
            "description": self.description,
            "builtin": True,
            "rules": [{"path": path, "actions": list(actions)} for path, actions in self.rules],
            "deny": [{"path": path, **({"actions": list(actions)} if actions else {})} for path, actions in self.deny],
        }


BUILTIN_POLICIES: tuple[BuiltinPolicy, ...] = (
    BuiltinPolicy(ADMIN, "Everything, including RBAC and API keys.", rules=(("*", ("*",)),)),
    BuiltinPolicy(
        OPERATOR,
        "Runs and manages jobs, chains, schedules, actors, webhooks, runners, models and the proxy's "
        "catalog; reads RBAC and the system; no RBAC writes.",
        rules=(
            ("chains*", ("*",)),
            ("tasks*", ("*",)),
            ("schedules*", ("*",)),
            ("actors*", ("*",)),
            ("webhooks*", ("*",)),
            ("runners*", ("*",)),
            ("models*", ("*",)),
            ("proxy*", ("*",)),
            ("extensions*", _READ),
            ("rbac/*", _READ),
            ("system/*", _READ),
        ),
    ),
    BuiltinPolicy(
        WORKER,
        "Executes runner functions, reads and creates tasks, reads schedules and extensions.",
        rules=(
            ("runners*", ("execute", *_READ)),
            ("tasks*", ("create", *_READ)),
            ("schedules*", _READ),
            ("extensions*", _READ),
        ),
    ),
    BuiltinPolicy(
        OBSERVER,
        "Reads and lists everything except API keys and secrets.",
        rules=(("*", _READ),),
        # Deny wins across every policy a principal holds: attach observer only where these should hold.
        deny=(("rbac/api-keys*", ()), ("system/secrets*", ())),
    ),
    BuiltinPolicy(
        ANONYMOUS,
        "What callers without a key may do where anonymous access is on (lite mode's proxy): use every model.",
        rules=(("models*", ("execute",)),),
    ),
)
BUILTIN_NAMES = frozenset(policy.name for policy in BUILTIN_POLICIES)


def builtin_policies_write(policy_model: Any) -> list[str]:
    """Create or correct each built-in policy in place; return the names written (empty when current).

    Takes the model class so the data migration can pass its historical model.
    """
    written = []
    for spec in BUILTIN_POLICIES:
        fields = spec.document()
        policy = policy_model.objects.filter(name=spec.name).first()
        if policy is None:
            policy_model.objects.create(name=spec.name, **fields)
        elif any(getattr(policy, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(policy, key, value)
            policy.save()
        else:
            continue
        written.append(spec.name)
    return written


def builtin_principals_write(principal_model: Any, policy_model: Any) -> list[str]:
    """Create the `anonymous` principal, holding the `anonymous` policy, when it is missing.

    Only created, never corrected: which policies it holds and whether it is active are the
    administrators' to change (deactivating it refuses every anonymous request).
    """
    if principal_model.objects.filter(name=ANONYMOUS).exists():
        return []
    principal = principal_model.objects.create(
        name=ANONYMOUS, kind="service",
        description="Who callers without a key act as, where anonymous access is on (proxy.allow_anonymous).")
    principal.policies.set(policy_model.objects.filter(name=ANONYMOUS))
    return [ANONYMOUS]
