"""First-start bootstrap of the administrator, and password resets."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model

from apps.core.errors import ApplicationError
from apps.rbac.models import Principal
from apps.rbac.services.bootstrap import admin_bootstrap, user_password_reset


@pytest.mark.django_db
def test_first_bootstrap_creates_a_superuser_and_keeps_its_password_only_as_a_hash(tmp_path: Path) -> None:
    username, password = admin_bootstrap(secrets_dir=tmp_path)

    assert password is not None
    assert authenticate(username=username, password=password) is not None
    user = get_user_model().objects.get(username=username)
    assert user.is_superuser and password not in user.password
    assert Principal.objects.get(name=username).user is not None
    assert not any(password in path.read_text() for path in tmp_path.rglob("*") if path.is_file())


@pytest.mark.django_db
def test_later_bootstraps_create_nothing_and_show_no_password(tmp_path: Path) -> None:
    first = admin_bootstrap(secrets_dir=tmp_path)
    second = admin_bootstrap(secrets_dir=tmp_path)

    assert second == (first[0], None)
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


@pytest.mark.django_db
def test_bootstrap_deletes_the_plain_text_password_older_releases_kept(tmp_path: Path) -> None:
    admin_bootstrap(secrets_dir=tmp_path)
    (tmp_path / "admin_password").write_text("old-plain-text\n")

    admin_bootstrap(secrets_dir=tmp_path)

    assert not (tmp_path / "admin_password").exists()


@pytest.mark.django_db
def test_a_reset_generates_a_new_password_that_replaces_the_old(tmp_path: Path) -> None:
    username, old = admin_bootstrap(secrets_dir=tmp_path)

    new = user_password_reset(username=username)

    assert new != old
    assert authenticate(username=username, password=new) is not None
    assert authenticate(username=username, password=old) is None


@pytest.mark.django_db
def test_a_chosen_password_must_pass_the_validators(tmp_path: Path) -> None:
    username, _ = admin_bootstrap(secrets_dir=tmp_path)

    with pytest.raises(ApplicationError) as weak:
        user_password_reset(username=username, password="123")
    with pytest.raises(ApplicationError) as unknown:
        user_password_reset(username="nobody", password="a-long-enough-pass phrase")

    assert weak.value.code == "invalid_password" and unknown.value.code == "user_not_found"
