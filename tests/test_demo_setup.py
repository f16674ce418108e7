"""Setting up the demo: its logins survive a second run, and manage.py finds the development
environment that scripts/demo.sh writes (private/dev.env)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from evalsite.settings import BASE_DIR

PROJECT = Path(BASE_DIR)


@pytest.fixture
def logins(tmp_path, monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    path = tmp_path / "private" / "demo-logins.txt"
    monkeypatch.setenv("PINGYI_DEMO_LOGINS", str(path))
    return path


def _password(out: str) -> str:
    return out.split("密码 ")[-1].strip()


def test_demo_logins_are_kept_private_and_printed_again(db, logins, capsys):
    call_command("demo", seed=1, ballots=6)
    first = _password(capsys.readouterr().out)
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert first in logins.read_text()
    # Run again (as scripts/demo.sh does every time): the same logins, still valid.
    call_command("demo", if_missing=True)
    out = capsys.readouterr().out
    assert _password(out) == first and "密码未变" in out
    assert authenticate(username="office", password=first) is not None
    assert authenticate(username="clerk2", password=first) is not None
    # Only when asked: a new password, stored, and the old one no longer works.
    call_command("demo", if_missing=True, reset_passwords=True)
    second = _password(capsys.readouterr().out)
    assert second != first and second in logins.read_text()
    assert authenticate(username="office", password=first) is None
    assert authenticate(username="office", password=second) is not None


def test_demo_without_a_stored_password_makes_one(db, logins, capsys):
    call_command("demo", seed=1, ballots=6)
    capsys.readouterr()
    logins.unlink()
    call_command("demo", if_missing=True)
    password = _password(capsys.readouterr().out)
    assert password in logins.read_text()
    assert authenticate(username="leader", password=password) is not None


def _manage_copy(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py run from a copy beside its own private/ (the project's settings on the path),
    without the DEBUG or SECRET_KEY a test run may have."""
    shutil.copy(PROJECT / "manage.py", tmp_path / "manage.py")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "SECRET_KEY", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE",
                          "PINGYI_DEV_ENV", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, str(tmp_path / "manage.py"), *args],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**clean, "PYTHONPATH": str(PROJECT), **env},
    )


def test_manage_py_reads_private_dev_env_when_present(tmp_path):
    # No file: production behaviour, a secret key is required.
    refused = _manage_copy(tmp_path, "check")
    assert refused.returncode != 0 and "SECRET_KEY is required" in refused.stderr
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "dev.env").write_text("# written by scripts/demo.sh\nDEBUG=1\n")
    assert _manage_copy(tmp_path, "check").returncode == 0
    # What the environment says wins over the file; PINGYI_DEV_ENV=0 ignores the file.
    for env in ({"DEBUG": "0"}, {"PINGYI_DEV_ENV": "0"}):
        result = _manage_copy(tmp_path, "check", **env)
        assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_demo_sh_takes_address_and_port_from_the_environment():
    script = (PROJECT / "scripts" / "demo.sh").read_text()
    assert 'ADDR="${PINGYI_DEMO_ADDR:-127.0.0.1}"' in script
    assert 'PORT="${PINGYI_DEMO_PORT:-8000}"' in script
    assert 'runserver "$ADDR:$PORT"' in script
    assert "--reset-passwords" in script and "PINGYI_DEMO_RESET" in script
    assert "private/dev.env" in script
    assert subprocess.run(["bash", "-n", str(PROJECT / "scripts" / "demo.sh")]).returncode == 0
