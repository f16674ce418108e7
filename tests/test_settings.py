from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from evalsite.settings import BASE_DIR, database_from_url, env_bool


def test_sqlite_url_is_the_embedded_default():
    db = database_from_url(f"sqlite:///{BASE_DIR / 'x.db'}")
    assert db["ENGINE"] == "django.db.backends.sqlite3" and db["NAME"] == str(BASE_DIR / "x.db")


def test_postgres_url():
    db = database_from_url("postgres://u:p%40ss@db.example:6543/pingyi")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u", "p@ss", "db.example", "6543", "pingyi")


def test_bad_scheme_and_bad_boolean_are_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://x/y")
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("DEBUG")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DEBUG", "SECRET_KEY", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run(
        [sys.executable, str(Path(BASE_DIR) / "manage.py"), *args],
        # PINGYI_DEV_ENV=0: a development private/dev.env (scripts/demo.sh) must not turn
        # DEBUG on here.
        capture_output=True, text=True, env={**clean, "PINGYI_DEV_ENV": "0", **env}, cwd=BASE_DIR,
        timeout=120,
    )


def test_secret_key_required_when_debug_is_off():
    result = _manage("check")
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY="x" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="pingyi.example.gov.cn", DEBUG="false",
        STATIC_ROOT=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
