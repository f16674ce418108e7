"""The demo's logins: one generated password for its five users, kept in a private file so that
running the demo again (scripts/demo.sh after a failure, or a second time) prints the same
logins instead of changing them. `manage.py demo --reset-passwords` draws a new one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User

from core.roles import AUDITOR, CLERK, CONTACT, LEADER, OFFICE

DEMO_USERS = (("office", OFFICE, True), ("leader", LEADER, False), ("clerk", CLERK, False),
              ("clerk2", CLERK, False), ("auditor", AUDITOR, True),
              # A unit's contact (单位联络员) of last year's first case (demo: make_cases).
              ("lianluoyuan", CONTACT, False))
_KEY = "password="


def logins_path() -> Path:
    """private/demo-logins.txt (gitignored), or PINGYI_DEMO_LOGINS when set (the tests)."""
    return Path(os.environ.get("PINGYI_DEMO_LOGINS") or
                Path(settings.BASE_DIR) / "private" / "demo-logins.txt")


def stored_password(path: Path | None = None) -> str | None:
    path = path or logins_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        if line.startswith(_KEY) and line[len(_KEY):].strip():
            return line[len(_KEY):].strip()
    return None


def _write(path: Path, password: str) -> None:
    """Readable by its owner only (0600), written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, ("# Pingyi 演示账号(manage.py demo 生成;--reset-passwords 重新生成)\n"
                      f"# 用户名: {' '.join(u for u, _r, _s in DEMO_USERS)}\n"
                      f"{_KEY}{password}\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def ensure_logins(*, reset: bool) -> tuple[str, bool]:
    """The demo users with their roles; return (password, whether it is new).

    The stored password is kept unless `reset` or none is stored; users that are missing are
    created with it."""
    path = logins_path()
    password = None if reset else stored_password(path)
    fresh = password is None
    if password is None:
        password = secrets.token_urlsafe(9)
        _write(path, password)
    for username, role, staff in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username)
        if created or fresh:
            user.is_staff = staff
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
    return password, fresh
