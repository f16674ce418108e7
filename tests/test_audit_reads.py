"""Insiders' reads are in the audit log: logins, failed logins and logouts (username tried and
client address, never the password), downloading the code list, printing code slips (never a
code itself); and the slips refuse a print range they do not know."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from ballots.models import AccessCode
from ballots.online.codes import codes_for_representatives, codes_unnamed
from campaigns.models import Representative
from core.models import AuditLog, BackgroundJob
from tests.test_online_submit import open_campaign


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def camp(campaign_factory):
    camp = open_campaign(campaign_factory)
    group = camp.groups.order_by("order").first()
    Representative.objects.create(campaign=camp, group=group, name="张三", phone="13900000000")
    return camp


def entry_text(entry: AuditLog) -> str:
    return json.dumps(
        [entry.username, entry.object_repr, entry.object_id, entry.before, entry.after, entry.reason],
        ensure_ascii=False,
    )


def test_login_failed_login_and_logout_are_audited(client, office):
    r = client.post(
        reverse("login"),
        {"username": "office", "password": "Secret-guess-42"},
        REMOTE_ADDR="198.51.100.4",
    )
    assert r.status_code == 200
    failed = AuditLog.objects.get(action="auth.login_failed")
    assert failed.after == {"username": "office", "client": "198.51.100.4"}
    assert failed.object_repr == "office" and failed.user is None
    assert "Secret-guess-42" not in entry_text(failed) and "*****" not in entry_text(failed)

    r = client.post(
        reverse("login"),
        {"username": "office", "password": "pw-office"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.20",
    )
    assert r.status_code == 302
    login = AuditLog.objects.get(action="auth.login")
    assert (login.user, login.username) == (office, "office")
    assert login.after == {"client": "203.0.113.20"}
    assert "pw-office" not in entry_text(login)

    client.post(reverse("logout"), REMOTE_ADDR="203.0.113.21")
    logout = AuditLog.objects.get(action="auth.logout")
    assert logout.username == "office" and logout.after == {"client": "203.0.113.21"}


def test_a_failed_admin_login_is_audited_too(client, office):
    client.post(reverse("admin:login"), {"username": "nobody", "password": "x"}, REMOTE_ADDR="192.0.2.3")
    entry = AuditLog.objects.get(action="auth.login_failed")
    assert entry.after == {"username": "nobody", "client": "192.0.2.3"}


def test_downloading_the_code_list_is_audited_without_the_codes(client, camp, office):
    codes_for_representatives(campaign=camp, user=office)
    codes_unnamed(campaign=camp, count=2, group=None, user=office)
    client.force_login(office)
    r = client.get(reverse("codes_download", args=[camp.slug]), REMOTE_ADDR="198.51.100.5")
    assert r.status_code == 200
    entry = AuditLog.objects.get(action="codes.download")
    assert (entry.username, entry.campaign_id) == ("office", camp.pk)
    assert entry.after == {"status": "active", "count": 3, "client": "198.51.100.5"}
    for code in AccessCode.objects.values_list("code", flat=True):
        assert not AuditLog.objects.filter(after__icontains=code).exists()
        assert code not in entry_text(entry)


def test_printing_slips_is_audited_without_the_codes(client, camp, office):
    codes_for_representatives(campaign=camp, user=office)
    codes_unnamed(campaign=camp, count=2, group=None, user=office)
    client.force_login(office)
    r = client.post(reverse("codes_slips", args=[camp.slug]), {"which": "unnamed"})
    job = BackgroundJob.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_page", args=[job.pk])
    entry = AuditLog.objects.get(action="codes.slips")
    assert (entry.username, entry.campaign_id) == ("office", camp.pk)
    assert entry.after == {"which": "unnamed", "count": 2, "job": str(job.pk), "client": "127.0.0.1"}
    text = entry_text(entry)
    assert not any(code in text for code in AccessCode.objects.values_list("code", flat=True))


@pytest.mark.parametrize("which", ["everything", "", "ALL", "named "])
def test_slips_refuse_an_unknown_print_range(client, camp, office, which):
    codes_unnamed(campaign=camp, count=2, group=None, user=office)
    client.force_login(office)
    r = client.post(reverse("codes_slips", args=[camp.slug]), {"which": which})
    assert r.status_code == 400 and "打印范围无效" in r.content.decode()
    assert not BackgroundJob.objects.exists()
    assert not AuditLog.objects.filter(action="codes.slips").exists()
