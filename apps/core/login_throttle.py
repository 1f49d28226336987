"""Failed admin logins are counted per username and per client address; too many lock both out for a while.

Counters live in the shared cache (Redis in full mode, so every web process sees them), each in a fixed window
that starts at its first failure. A success clears its username's count, never its address's: one good
password must not reset the budget of an address trying many usernames.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

from apps.core.errors import ApplicationError

MAX_FAILURES = 5
WINDOW_SECONDS = 5 * 60


def check_login_allowed(*, username: str, address: str) -> None:
    """Raise ApplicationError `login_throttled` (429) while the username or the address is locked out."""
    counts = cache.get_many(_keys(username=username, address=address))
    if any(count >= MAX_FAILURES for count in counts.values()):
        raise ApplicationError(
            "login_throttled",
            f"Too many failed logins for this account or from this address: try again in {WINDOW_SECONDS // 60} "
            "minutes.", status=429)


def login_failure_record(*, username: str, address: str) -> None:
    for key in _keys(username=username, address=address):
        cache.add(key, 0, timeout=WINDOW_SECONDS)  # starts the window; a running one keeps its expiry
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: this failure opens a new window
            cache.add(key, 1, timeout=WINDOW_SECONDS)


def login_success_record(*, username: str) -> None:
    cache.delete(_keys(username=username, address="")[0])


def _keys(*, username: str, address: str) -> list[str]:
    # Usernames are hashed: any text may be typed into the form, and cache keys have a limited alphabet.
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"legion:login-failures:user:{user}", f"legion:login-failures:address:{address or '-'}"]
