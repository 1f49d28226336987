"""Bootstrapping the first administrator (a superuser login and its principal), and resetting a login's password."""

from __future__ import annotations

import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.errors import ApplicationError
from apps.rbac.services.principals import principal_ensure_for_user

ADMIN_USERNAME = "admin"
# Where releases before the password was shown only once kept it in plain text; bootstrap deletes it.
LEGACY_PASSWORD_FILE = "admin_password"


@transaction.atomic
def admin_bootstrap(*, secrets_dir: Path) -> tuple[str, str | None]:
    """Create the first superuser and its principal once; return its username and, when created now, password.

    The generated password is returned only by the call that creates the user and is kept nowhere but as
    Django's hash: later calls return None for it (`legion admin reset-password` sets a new one).
    """
    (secrets_dir / LEGACY_PASSWORD_FILE).unlink(missing_ok=True)
    user_model = get_user_model()
    existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        return (existing.get_username(), None)
    password = _password_generate()
    user = user_model.objects.create_superuser(username=ADMIN_USERNAME, email="", password=password)
    principal_ensure_for_user(user=user)  # so `legion task run --as admin` works before any login
    return (ADMIN_USERNAME, password)


def user_password_reset(*, username: str, password: str | None = None) -> str:
    """Set the login's password to `password` (checked by AUTH_PASSWORD_VALIDATORS) or a generated one; return it.

    Django keeps only its hash, and changing it ends the login's existing sessions.
    """
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ApplicationError("user_not_found", f"no login named '{username}'", field="username", status=404)
    if password is None:
        password = _password_generate()
    else:
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            raise ApplicationError("invalid_password", " ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


def _password_generate() -> str:
    return secrets.token_urlsafe(12)
