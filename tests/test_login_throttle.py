"""The staff login throttle (core/login.py): strict per client address, a short capped delay
per account, browsers that logged in before exempt; the client address behind the proxy
(core/clients.py); a login lasting a working day."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth import authenticate
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse

from core import login as login_module
from core.clients import client_address
from core.login import DEVICE_COOKIE
from core.models import LoginFailure
from evalsite.settings import BASE_DIR

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """Before the users are made: each wrong password would otherwise cost PBKDF2's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def attempt(client: Client, username: str, password: str, address: str = "198.51.100.1", **kw):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **kw
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


def age_failures(seconds: int) -> None:
    """Move every recorded failure `seconds` into the past (instead of sleeping)."""
    LoginFailure.objects.update(at=F("at") - dt.timedelta(seconds=seconds))


def test_fifty_wrong_passwords_then_the_right_one_is_refused(client, office):
    for _ in range(50):
        r = attempt(client, "office", "wrong")
    r = attempt(client, "office", "pw-office")
    assert r.status_code == 429 and not logged_in(r)
    page = r.content.decode()
    assert re.search(r"请 \d+ (秒|分钟)后再试", page)
    assert int(r["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # Refused tries are neither checked nor counted: from the 6th on (the account's delay).
    assert LoginFailure.objects.count() == 5


def test_the_address_limit_is_strict_but_only_for_that_address(client, office, leader):
    for i in range(10):  # ten different accounts: only the address adds up
        attempt(client, f"nobody{i}", "wrong", address="203.0.113.5")
    r = attempt(client, "leader", "pw-leader", address="203.0.113.5")
    assert r.status_code == 429 and "这个网络地址登录失败的次数过多,请 15 分钟后再试" in r.content.decode()
    assert 890 <= int(r["Retry-After"]) <= 900
    # Another address is not affected, even for the same accounts.
    assert logged_in(attempt(Client(), "leader", "pw-leader", address="203.0.113.6"))
    # The limit lifts when the oldest failure leaves the 15-minute window.
    age_failures(901)
    assert logged_in(attempt(Client(), "office", "pw-office", address="203.0.113.5"))


def test_the_account_limit_delays_but_does_not_lock(client, office):
    # A guesser spreading tries over many addresses: five are free ...
    for i in range(5):
        assert attempt(Client(), "office", "wrong", address=f"192.0.2.{i}").status_code == 200
    # ... then the owner, from an address never throttled, waits 15 seconds ...
    r = attempt(client, "office", "pw-office", address="198.51.100.99")
    assert r.status_code == 429
    assert "这个账号登录失败的次数过多,请 15 秒后再试" in r.content.decode()
    # ... and only that long.
    age_failures(16)
    assert logged_in(attempt(client, "office", "pw-office", address="198.51.100.99"))


def test_the_account_delay_doubles_up_to_the_maximum(client, office, settings):
    for i in range(12):
        attempt(Client(), "office", "wrong", address=f"192.0.2.{i}")
        age_failures(1000)  # each try made after the previous delay ran out
    LoginFailure.objects.update(at=F("at") + dt.timedelta(seconds=1000))
    r = attempt(client, "office", "pw-office", address="198.51.100.99")
    assert r.status_code == 429 and "请 5 分钟后再试" in r.content.decode()
    assert int(r["Retry-After"]) <= settings.PINGYI_LOGIN_MAX_DELAY_SECONDS
    # Failures older than a day no longer count.
    age_failures(24 * 3600 + 1)
    assert logged_in(attempt(client, "office", "pw-office", address="198.51.100.99"))


def test_unknown_usernames_are_throttled_alike(client, db):
    for i in range(5):
        attempt(Client(), "nosuchuser", "wrong", address=f"192.0.2.{i}")
    r = attempt(client, "nosuchuser", "wrong", address="198.51.100.99")
    assert r.status_code == 429 and "这个账号登录失败的次数过多" in r.content.decode()


def test_a_browser_that_logged_in_before_is_not_shut_out(client, office):
    # The owner's usual browser logged in once (yesterday, say) and keeps its device cookie.
    assert logged_in(attempt(client, "office", "pw-office", address="203.0.113.5"))
    assert client.cookies[DEVICE_COOKIE]["httponly"]
    client.post(reverse("logout"))
    # An attacker floods the account and the office's shared address.
    attacker = Client()
    for i in range(30):
        attempt(attacker, "office", "wrong", address=f"192.0.2.{i % 3}")
    for _ in range(10):
        attempt(attacker, "someone", "wrong", address="203.0.113.5")
    assert attempt(Client(), "office", "pw-office", address="203.0.113.5").status_code == 429
    # The owner's browser still gets in at once.
    assert logged_in(attempt(client, "office", "pw-office", address="203.0.113.5"))


def test_a_device_cookie_is_for_its_account_and_wears_out(client, office, leader):
    assert logged_in(attempt(client, "office", "pw-office"))
    client.post(reverse("logout"))
    for i in range(5):
        attempt(Client(), "leader", "wrong", address=f"192.0.2.{i}")
    # office's cookie does not exempt a try at leader's account.
    assert attempt(client, "leader", "pw-leader").status_code == 429
    # A stolen cookie buys at most five guesses a day.
    for _ in range(5):
        assert attempt(client, "office", "wrong", address="192.0.2.50").status_code == 200
    assert attempt(client, "office", "pw-office", address="192.0.2.51").status_code == 429
    # A forged cookie counts for nothing.
    forged = Client()
    forged.cookies[DEVICE_COOKIE] = "eyJ1Ijoib2ZmaWNlIiwiZCI6IngifQ:forged:signature"
    assert attempt(forged, "office", "pw-office", address="192.0.2.52").status_code == 429


def test_parallel_tries_cannot_slip_through_together(client, office, monkeypatch):
    """Four wrong tries are recorded; the fifth and sixth arrive together on two servers and
    both pass the first check. The sixth is counted before its password is checked, so the
    fifth, checking again, sees it and is refused: one of the two at most gets through."""
    for i in range(4):
        attempt(Client(), "office", "wrong", address=f"192.0.2.{i}")
    record = login_module._record
    checked: list[str] = []

    def racing(request, username):
        record(request, username)  # the other server's try, counted a moment earlier
        return record(request, username)

    monkeypatch.setattr(login_module, "_record", racing)
    monkeypatch.setattr(
        login_module.ModelBackend, "authenticate",
        lambda self, request, username=None, password=None, **kw: checked.append(username),
    )
    r = attempt(client, "office", "pw-office", address="198.51.100.99")
    assert r.status_code == 429 and checked == []
    # Its own row is gone again: a refused try is not a failure.
    assert LoginFailure.objects.count() == 5


def test_the_admin_login_page_is_throttled_too(client, office):
    for i in range(5):
        attempt(Client(), "office", "wrong", address=f"192.0.2.{i}")
    r = client.post(
        reverse("admin:login"),
        {"username": "office", "password": "pw-office", "next": "/admin/"},
        REMOTE_ADDR="198.51.100.99",
    )
    assert r.status_code == 200 and "这个账号登录失败的次数过多" in r.content.decode()
    assert "_auth_user_id" not in client.session
    # Wrong passwords through the admin count as well.
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "x", "password": "y"}, REMOTE_ADDR="192.0.2.9")
    assert LoginFailure.objects.filter(client="192.0.2.9", username="x").count() == 5


def test_authenticate_itself_refuses_a_throttled_request(office):
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="203.0.113.5")
    for i in range(10):
        assert authenticate(request, username=f"x{i}", password="wrong") is None
    assert authenticate(request, username="office", password="pw-office") is None
    assert LoginFailure.objects.count() == 10  # the refused one was not counted
    other = RequestFactory().post(LOGIN, REMOTE_ADDR="203.0.113.6")
    assert authenticate(other, username="office", password="pw-office") == office


def test_failures_are_counted_by_the_forwarded_address_only_behind_a_trusted_proxy(
    client, settings, db
):
    settings.PINGYI_TRUSTED_PROXIES = ["127.0.0.1", "10.1.0.0/16"]
    attempt(client, "a", "wrong", address="10.1.2.3", HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.8")
    attempt(client, "a", "wrong", address="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert set(LoginFailure.objects.values_list("client", flat=True)) == {
        "203.0.113.8",
        "198.51.100.7",
    }


@pytest.mark.parametrize(
    "remote, forwarded, expected",
    [
        ("127.0.0.1", "1.2.3.4", "1.2.3.4"),  # the local nginx appended the client
        ("127.0.0.1", "", "127.0.0.1"),
        ("5.6.7.8", "9.9.9.9", "5.6.7.8"),  # not a proxy: the header is the client's own words
        ("127.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # a client-supplied prefix is skipped
        ("127.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4"),  # two trusted proxies in a row
        ("127.0.0.1", "10.0.0.2", "10.0.0.2"),  # only proxies: the nearest one asked
        ("::1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(settings, remote, forwarded, expected):
    settings.PINGYI_TRUSTED_PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_a_login_lasts_a_working_day(client, office, settings):
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    r = attempt(client, "office", "pw-office")
    assert logged_in(r)
    assert r.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 10 * 3600
    assert client.session.get_expiry_age() == 10 * 3600


def test_the_session_length_comes_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    result = subprocess.run(
        [sys.executable, "-c", "import evalsite.settings as s; print(s.SESSION_COOKIE_AGE)"],
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        env={**env, "DEBUG": "1", "PINGYI_STAFF_SESSION_HOURS": "8"},
        timeout=60,
    )
    assert result.stdout.strip() == str(8 * 3600), result.stderr
