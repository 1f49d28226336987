"""`legion admin reset-password`: a new password printed once, or read from stdin and not echoed."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command


@pytest.fixture
def admin_user() -> None:
    get_user_model().objects.create_superuser(username="admin", email="", password="first-pass phrase 1")


@pytest.mark.django_db
def test_reset_password_prints_a_new_generated_password_once(admin_user: None,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    call_command("legion", "admin", "reset-password")

    match = re.search(r"user 'admin', new password '(?P<password>[^']+)'", capsys.readouterr().out)
    assert match and authenticate(username="admin", password=match["password"]) is not None
    assert authenticate(username="admin", password="first-pass phrase 1") is None


@pytest.mark.django_db
def test_reset_password_from_stdin_sets_it_without_printing_it(admin_user: None, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("chosen pass phrase 42\n"))

    call_command("legion", "admin", "reset-password", "--username", "admin", "--stdin")

    assert "chosen pass phrase 42" not in capsys.readouterr().out
    assert authenticate(username="admin", password="chosen pass phrase 42") is not None


@pytest.mark.django_db
def test_reset_password_of_an_unknown_login_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        call_command("legion", "admin", "reset-password", "--username", "ghost")

    assert exit_.value.code == 2 and "user_not_found" in capsys.readouterr().err
