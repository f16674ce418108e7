"""Shared fixtures: a cast of users, one per role (as in healthchecks' BaseTestCase), and
campaigns made from presets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
GOLDEN = SHARED / "spec" / "golden"


TEST_OFFICE = "测试市评议办公室"


def default_office():
    """The office of the role fixtures and of campaign_factory's campaigns (issue 16)."""
    from campaigns.models import Office

    return Office.objects.get_or_create(name=TEST_OFFICE)[0]


def make_user(username: str, role: str | None, *, staff: bool = False):
    """A user with `role`; a user with a role is a member of the test office."""
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username, f"{username}@example.org", "pw-" + username)
    user.is_staff = staff
    user.save()
    if role:
        user.groups.add(Group.objects.get(name=role))
        default_office().members.add(user)
    return user


@pytest.fixture
def office(db):
    from core.roles import OFFICE

    return make_user("office", OFFICE, staff=True)


@pytest.fixture
def clerk(db):
    from core.roles import CLERK

    return make_user("clerk", CLERK)


@pytest.fixture
def clerk2(db):
    from core.roles import CLERK

    return make_user("clerk2", CLERK)


@pytest.fixture
def leader(db):
    from core.roles import LEADER

    return make_user("leader", LEADER)


@pytest.fixture
def auditor(db):
    from core.roles import AUDITOR

    return make_user("auditor", AUDITOR, staff=True)


@pytest.fixture
def outsider(db):
    return make_user("outsider", None)


@pytest.fixture
def campaign_factory(db):
    from campaigns.services import campaign_create_from_preset

    counter = iter(range(1, 10_000))

    def make(preset: str = "qianren", **kw):
        n = next(counter)
        return campaign_create_from_preset(
            preset=preset,
            slug=kw.pop("slug", f"{preset}-{n}"),
            name=kw.pop("name", f"测试{preset}{n}"),
            year=kw.pop("year", 2026),
            office=kw.pop("office", None) or default_office(),
        )

    return make


@pytest.fixture
def qianren(campaign_factory):
    return campaign_factory("qianren", slug="qianren", name="千人评议机关测试")


@pytest.fixture
def golden() -> Path:
    if not GOLDEN.is_dir():
        pytest.skip("shared/spec/golden is not beside the project")
    return GOLDEN


@pytest.fixture
def is_postgres(db) -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path_factory):
    """Uploads and generated reports go to a throwaway folder, never into the project."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    settings.PINGYI_UPLOAD_ROOT = tmp_path_factory.mktemp("uploads")
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path_factory.mktemp("private-files")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language: a page rendered in English (LocaleMiddleware
    activates the request's language in this thread) must not turn later tests English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
