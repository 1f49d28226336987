"""Who is calling: the key and principal proxy/auth.py established, with the RBAC policies routing must honour."""

from __future__ import annotations

from dataclasses import dataclass

from apps.rbac.decisions import PolicyData


@dataclass(slots=True, frozen=True)
class Caller:
    """Every caller is governed by its policies: an anonymous caller by those of the `anonymous` principal,
    and a caller with none may use nothing (proxy/router/candidates.py evaluates them per lane)."""

    key_id: str | None = None
    principal: str | None = None
    policies: tuple[PolicyData, ...] = ()
