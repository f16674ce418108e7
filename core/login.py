"""Staff login: slowing password guessing down without letting anyone lock the office out, and
writing every login, failed login and logout to the audit log.

Design. Wrong passwords are rows of `LoginFailure` (username tried, client address, device),
counted in the database so that every application server sees the same numbers (as the
wrong-code limit counts `CodeAttempt` rows). Three rules, checked before the password is:

1. Per client address, strict and short: after `PINGYI_LOGIN_FAILURES_PER_ADDRESS` (10)
   failures within `PINGYI_LOGIN_ADDRESS_WINDOW_SECONDS` (15 minutes) the address may not try
   any account, not even with the right password, until the oldest of those failures leaves
   the window: at most 15 minutes, and only for that address.
2. Per account, a delay rather than a lock: the first `PINGYI_LOGIN_FAILURES_PER_ACCOUNT` (5)
   failures of a day are free; after that each try must wait after the latest failure,
   15 s, 30 s, 60 s ... doubling up to `PINGYI_LOGIN_MAX_DELAY_SECONDS` (5 minutes). Guessing
   from many addresses is held to one try per few minutes per account, yet the owner waits
   minutes, never hours. Unknown usernames count alike, so the answer tells nothing about
   which accounts exist.
3. Known browsers are exempt (the "device cookie" of OWASP's advice on guessing attacks): a
   successful login leaves a signed cookie naming the account and a random device id. A login
   to that account from a browser that shows it skips rules 1 and 2, so an attacker flooding
   an account, or the office's shared address, does not shut out staff at their usual
   computers. A stolen device cookie buys little: once its device has failed
   `PINGYI_LOGIN_FAILURES_PER_ACCOUNT` times in a day it is treated as unknown.

While refused, the password is not checked and the try is not counted, so waiting out the
delay always helps; a refused try is not written to the audit log either (its size stays
bounded by the throttle). A try is counted before its password is checked and the limits
are checked again, so parallel tries on several workers or servers cannot slip through
together (`_throttled_clean`). The login page says how long to wait (status 429, Retry-After);
the admin's login page gives the same message. `ThrottledModelBackend` applies the same rules
to any other caller of `authenticate()` with a request.

The client address is `core.clients.client_address`: X-Forwarded-For only from
`PINGYI_TRUSTED_PROXIES`. Passwords are never stored nor logged."""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit
from core.clients import client_address
from core.models import LoginFailure

DEVICE_COOKIE = "pingyi_device"
DEVICE_SALT = "pingyi.login-device"
DEVICE_MAX_AGE = 365 * 24 * 3600
ACCOUNT_WINDOW = dt.timedelta(days=1)
FIRST_DELAY_SECONDS = 15
# request.META keys: set by this module for itself and for LoginDeviceMiddleware.
_REFUSED = "pingyi.login_refused"
_IN_FLIGHT = "pingyi.login_in_flight"  # the pk of this request's own LoginFailure row
_NEW_DEVICE = "pingyi.login_device"


@dataclass(frozen=True)
class Refusal:
    """A login refused before its password is checked: wait `seconds`."""

    seconds: int
    per_address: bool

    def message(self) -> str:
        if self.seconds < 60:
            wait = _("%(n)d 秒") % {"n": self.seconds}
        else:
            wait = _("%(n)d 分钟") % {"n": math.ceil(self.seconds / 60)}
        if self.per_address:
            return _("这个网络地址登录失败的次数过多,请 %(wait)s后再试。") % {"wait": wait}
        return _(
            "这个账号登录失败的次数过多,请 %(wait)s后再试。"
            "在曾经成功登录过这个账号的浏览器上登录不受此限制。"
        ) % {"wait": wait}


def _username_key(username: str) -> str:
    return username.strip()[:150]


def _device_of(request: HttpRequest) -> tuple[str, str] | None:
    """(username, device id) of the browser's device cookie, if it is genuine."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user, device = data.get("u"), data.get("d")
    if isinstance(user, str) and isinstance(device, str) and device:
        return user, device[:32]
    return None


def _device_id(request: HttpRequest) -> str:
    device = _device_of(request)
    return device[1] if device else ""


def _failures(request: HttpRequest) -> QuerySet[LoginFailure]:
    """Every counted row but this request's own try in flight."""
    return LoginFailure.objects.exclude(pk=request.META.get(_IN_FLIGHT) or 0)


def _trusted_device(request: HttpRequest, username: str, now: dt.datetime) -> bool:
    device = _device_of(request)
    if device is None or device[0] != username:
        return False
    failures = _failures(request).filter(device=device[1], at__gt=now - ACCOUNT_WINDOW)
    return failures.count() < settings.PINGYI_LOGIN_FAILURES_PER_ACCOUNT


def login_refusal(request: HttpRequest, username: str) -> Refusal | None:
    """None if this request may try `username`'s password now, else how long to wait."""
    key = _username_key(username)
    now = timezone.now()
    if _trusted_device(request, key, now):
        return None
    waits: list[Refusal] = []
    # 1. The address: refused until the oldest of its last `limit` failures leaves the window.
    limit = settings.PINGYI_LOGIN_FAILURES_PER_ADDRESS
    window = dt.timedelta(seconds=settings.PINGYI_LOGIN_ADDRESS_WINDOW_SECONDS)
    times = list(
        _failures(request)
        .filter(client=client_address(request), at__gt=now - window)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if limit > 0 and len(times) >= limit:
        waits.append(Refusal(_seconds_until(times[-1] + window, now), per_address=True))
    # 2. The account: a delay after its latest failure, doubling with each failure past the
    # free ones, never more than the maximum.
    free = settings.PINGYI_LOGIN_FAILURES_PER_ACCOUNT
    account = (
        _failures(request)
        .filter(username=key, at__gt=now - ACCOUNT_WINDOW)
        .aggregate(n=Count("id"), last=Max("at"))
    )
    n, last = account["n"], account["last"]
    if last is not None and n >= free:
        cap = settings.PINGYI_LOGIN_MAX_DELAY_SECONDS
        delay = min(cap, FIRST_DELAY_SECONDS * 2 ** min(n - free, 20))
        free_at = last + dt.timedelta(seconds=delay)
        if free_at > now:
            waits.append(Refusal(_seconds_until(free_at, now), per_address=False))
    return max(waits, key=lambda w: w.seconds) if waits else None


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _record(request: HttpRequest, username: str) -> LoginFailure:
    now = timezone.now()
    LoginFailure.objects.filter(at__lt=now - ACCOUNT_WINDOW).delete()  # keeps the table small
    return LoginFailure.objects.create(
        username=_username_key(username), client=client_address(request),
        device=_device_id(request),
    )


def _throttled_clean(form: ThrottledForm, clean: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Check the limits, then count the try *before* its password is checked (as a failure,
    deleted again if the password is right) and check again without it: two tries racing on
    different workers or servers each see the other's row, so no burst of parallel tries gets
    past a limit (at worst both are refused, and neither password was checked)."""
    request, username = form.request, form.cleaned_data.get("username")
    if request is None or not username:
        return clean()
    form.refusal = login_refusal(request, username)
    if form.refusal is None:
        row = _record(request, username)
        request.META[_IN_FLIGHT] = row.pk
        try:
            form.refusal = login_refusal(request, username)
            if form.refusal is None:
                return clean()  # a wrong password leaves the row: it was a failure
        finally:
            del request.META[_IN_FLIGHT]
            if form.refusal is not None or form.get_user() is not None:
                row.delete()  # refused before its password, or the password was right
    raise ValidationError(form.refusal.message(), code="throttled")


class LoginForm(AuthenticationForm):
    """The staff login form: throttled before the password is checked."""

    refusal: Refusal | None = None

    def clean(self) -> dict[str, Any]:
        return _throttled_clean(self, super().clean)


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, throttled alike (evalsite/urls.py hands it to admin.site)."""

    refusal: Refusal | None = None

    def clean(self) -> dict[str, Any]:
        return _throttled_clean(self, super().clean)


ThrottledForm = LoginForm | AdminLoginForm


class ThrottledModelBackend(ModelBackend):
    """Django's backend, refusing a throttled request whoever calls `authenticate()`."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        name = username if username is not None else kwargs.get(get_user_model().USERNAME_FIELD)
        # Through the login forms the limits were checked already, and this try counted.
        counted = request is not None and _IN_FLIGHT in request.META
        if request is not None and name and not counted and login_refusal(request, str(name)):
            request.META[_REFUSED] = True
            raise PermissionDenied  # stops authenticate() trying any other backend
        return super().authenticate(request, username, password, **kwargs)


_login_view = LoginView.as_view(authentication_form=LoginForm)


def login(request: HttpRequest) -> HttpResponseBase:
    """Django's login view with the throttled form; a refusal answers 429 with Retry-After."""
    response = _login_view(request)
    if isinstance(response, TemplateResponse) and response.context_data:
        form = response.context_data.get("form")
        refusal = getattr(form, "refusal", None)
        if isinstance(refusal, Refusal):
            response.status_code = 429
            response["Retry-After"] = str(refusal.seconds)
    return response


# --- Signals: recording failures, auditing --------------------------------------------------


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kw: Any
) -> None:
    """A wrong password: count it and audit it (the username tried and the address; the
    password is never in `credentials` here, Django has masked it)."""
    if request is None or request.META.pop(_REFUSED, False):
        return
    username = _username_key(str(credentials.get("username") or ""))
    client = client_address(request)
    if _IN_FLIGHT not in request.META:  # through the login forms the row is there already
        _record(request, username)
    audit(
        user=None,
        action="auth.login_failed",
        object_repr=username,
        after={"username": username, "client": client},
    )


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kw: Any) -> None:
    client = client_address(request) if request is not None else ""
    audit(user=user, action="auth.login", obj=user, after={"client": client})
    if request is not None:
        device = _device_of(request)
        same = device is not None and device[0] == user.get_username()
        request.META[_NEW_DEVICE] = signing.dumps(
            {
                "u": user.get_username(),
                "d": device[1] if device is not None and same else secrets.token_hex(8),
            },
            salt=DEVICE_SALT,
        )


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kw: Any) -> None:
    if user is not None:
        client = client_address(request) if request is not None else ""
        audit(user=user, action="auth.logout", obj=user, after={"client": client})


def connect_signals() -> None:
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_login_failed.connect(on_login_failed, dispatch_uid="pingyi-login-failed")
    user_logged_in.connect(on_logged_in, dispatch_uid="pingyi-logged-in")
    user_logged_out.connect(on_logged_out, dispatch_uid="pingyi-logged-out")


class LoginDeviceMiddleware:
    """Hands a browser that has just logged in its device cookie (rule 3 above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        value = request.META.get(_NEW_DEVICE)
        if value:
            response.set_cookie(
                DEVICE_COOKIE,
                value,
                max_age=DEVICE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
