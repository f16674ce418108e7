"""The representative's side of online voting: code entry, the ballot, the receipt.

The code travels in POST bodies and in the session, never in a URL after the first redirect:
a QR link `/v/<slug>/?c=CODE` is moved into the session at once and answered with a redirect
to a code-free address, so the code does not linger in history, Referer headers or logs.
The staff pages for codes are in views_codes.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ballots import sql
from ballots.models import AccessCode
from ballots.online.codes import (
    attempt_record,
    attempt_wait_minutes,
    normalise,
    receipt_of,
    voted_on,
)
from ballots.online.forms import (
    BallotForm,
    BallotItems,
    CodeForm,
    quick_ballot,
)
from ballots.online.submit import CodeRefused, ballot_submit
from ballots.services import BallotError, Layout
from campaigns.models import Campaign
from campaigns.rules import quotas_in_words, scale_in_words, threshold_in_words
from core.clients import client_address

# Reasons recorded in CodeAttempt: wrong guesses. A correct code in a closed campaign is not
# an attack and is not recorded.
FAILURES = ("malformed", "unknown", "revoked")


CODE_COOKIE = "pingyi_code"
CODE_MAX_AGE = 4 * 3600  # long enough to fill in a ballot, short for a shared device


def _code_of(request: HttpRequest, slug: str) -> str | None:
    """The code entered for this campaign, kept in a signed cookie in the voter's browser.

    Not in the session: sessions are rows of the database, and a session written when the
    code is entered and deleted when it votes would let a database administrator read the
    code and time its use against the ballots (README, threat model). The voter knows the
    code anyway; the signature only stops a cookie from being forged."""
    value = request.get_signed_cookie(
        CODE_COOKIE, default=None, salt=f"pingyi.code.{slug}", max_age=CODE_MAX_AGE
    )
    return normalise(value) if value else None


def _keep_code(response: HttpResponse, slug: str, code: str) -> HttpResponse:
    response.set_signed_cookie(
        CODE_COOKIE,
        code,
        salt=f"pingyi.code.{slug}",
        max_age=CODE_MAX_AGE,
        path=f"/v/{slug}/",
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _forget_code(response: HttpResponse, slug: str) -> HttpResponse:
    response.delete_cookie(CODE_COOKIE, path=f"/v/{slug}/", samesite="Lax")
    return response


RECEIPT_COOKIE = "pingyi_receipt"


def _with_receipt(
    response: HttpResponse, slug: str, number: str, on: dt.date, repeated: bool
) -> HttpResponse:
    """Hand the receipt to the receipt page in a signed cookie rather than the session.

    A session row is stored server-side with a modification time; keeping the receipt (or the
    code) there would tell a database administrator when each code was used. The cookie lives
    only in the voter's browser."""
    response.set_signed_cookie(
        RECEIPT_COOKIE,
        f"{slug}|{number}|{on.isoformat()}|{int(repeated)}",
        salt="pingyi.receipt",
        max_age=7 * 24 * 3600,
        path="/v/",
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _receipt_of(request: HttpRequest, slug: str) -> tuple[str, dt.date, bool] | None:
    value = request.get_signed_cookie(RECEIPT_COOKIE, default=None, salt="pingyi.receipt")
    if not value:
        return None
    try:
        cookie_slug, number, on, repeated = value.split("|")
        if cookie_slug != slug:
            return None
        return number, dt.date.fromisoformat(on), repeated == "1"
    except ValueError:
        return None


def _limited(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    minutes = attempt_wait_minutes(client_address(request))
    context["wait_minutes"] = minutes
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def _open_message(campaign: Campaign) -> str:
    if campaign.status == Campaign.Status.DRAFT:
        return _("“%(n)s”的网上评议尚未开始。") % {"n": campaign.name}
    return _("“%(n)s”的网上评议已经结束。") % {"n": campaign.name}


def _accept_code(
    request: HttpRequest, code: str | None, campaign: Campaign | None, *, limited: bool
) -> tuple[HttpResponse | None, str]:
    """Check an entered code; on success keep it in a cookie and return the redirect.

    Returns (response, "") on success or a final answer, else (None, error message). A
    wrong code is recorded for the limit unless the client is over it already (the count
    stops there; recording more would only fill the table during an attack)."""
    client = client_address(request)

    def wrong(reason: str, target: Campaign | None, message: str) -> tuple[None, str]:
        if not limited:
            attempt_record(client=client, campaign=target, reason=reason)
        return None, message

    if code is None:
        return wrong("malformed", campaign,
                     _("评议码格式不正确:应为16位字母和数字(不含 0、1、I、L、O、U)"))
    qs = AccessCode.objects.select_related("campaign").filter(code=code)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    row = qs.first()
    if row is None:
        return wrong("unknown", campaign, _("评议码不正确,请核对后重新输入。"))
    target = row.campaign
    if row.status == AccessCode.Status.REVOKED:
        return wrong("revoked", target, _("此评议码已作废,请与评议办公室联系。"))
    voted = voted_on(row)
    if voted is not None:
        response = redirect("vote_receipt", slug=target.slug)
        return _with_receipt(response, target.slug, receipt_of(row), voted, True), ""
    if target.status != Campaign.Status.OPEN:
        return None, _open_message(target)
    return _keep_code(redirect("vote_ballot", slug=target.slug), target.slug, row.code), ""


@never_cache
@require_http_methods(["GET", "POST"])
def vote_enter(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Code entry, for any campaign (`/v/`) or for one (`/v/<slug>/`, the QR link's page).

    The wrong-code limit refuses wrong codes only: a right code is accepted even from an
    address over the limit, so one guesser behind a hall's shared address cannot lock the
    hall out. Guessing stays futile (README: a code is one of 30^16)."""
    campaign = get_object_or_404(Campaign, slug=slug) if slug else None
    context: dict[str, Any] = {"campaign": campaign}
    from_link = request.method == "GET" and "c" in request.GET
    if request.method == "POST" or from_link:
        wait = attempt_wait_minutes(client_address(request))
        raw = request.POST.get("code", "") if request.method == "POST" else request.GET["c"]
        response, error = _accept_code(request, normalise(raw), campaign, limited=bool(wait))
        if response is not None:
            return response
        if from_link:
            # Never answer the QR link with a page: the code would stay in the address bar
            # (and in the page's links).
            if wait:
                error = _("尝试次数过多,请 %(n)d 分钟后再试。") % {"n": wait}
            messages.error(request, error)
            return redirect(request.path)
        if wait:
            context["form"] = CodeForm()
            return _limited(request, "ballots/online/enter.html", context)
        form = CodeForm(request.POST)
        form.is_valid()
        form.errors.clear()
        form.add_error("code", error)
        context["form"] = form
        return render(request, "ballots/online/enter.html", context, status=200)
    context["form"] = CodeForm()
    return render(request, "ballots/online/enter.html", context)


def _campaign_by_slug(slug: str) -> Campaign:
    """The campaign, or 404. Plain SQL: the ballot page is the busiest URL of a vote, and
    building the ORM query took a tenth of a submission's time."""
    found = list(
        Campaign.objects.raw(f"SELECT * FROM {Campaign._meta.db_table} WHERE slug = %s", [slug])
    )
    if not found:
        raise Http404
    return found[0]


def _campaign_from_row(row: Sequence[Any]) -> Campaign:
    """A Campaign from its concrete columns in field order, converted as the ORM would."""
    values = list(row)
    for i, col, converters in _campaign_converters():
        for convert in converters:
            values[i] = convert(values[i], col, connection)
    return Campaign.from_db(connection.alias, _CAMPAIGN_ATTNAMES, values)


_CAMPAIGN_ATTNAMES = [f.attname for f in Campaign._meta.concrete_fields]


@functools.cache
def _campaign_converters() -> list[tuple[int, Any, list[Any]]]:
    """(position, column, converters) of the Campaign fields that have any: the backend's and
    the field's own, as the ORM's compiler applies them."""
    out = []
    for i, f in enumerate(Campaign._meta.concrete_fields):
        col = f.get_col(Campaign._meta.db_table)
        own = f.get_db_converters(connection)  # type: ignore[attr-defined]  # django-stubs lacks Field.get_db_converters
        converters = connection.ops.get_db_converters(col) + own
        if converters:
            out.append((i, col, converters))
    return out


def _ballot_reads(slug: str, client: str) -> tuple[Campaign, BallotItems, int]:
    """The campaign (or 404), what its ballot lists, and how many wrong codes `client` tried
    lately (sql.recent_attempts_sql): everything a submission reads before it writes.

    On PostgreSQL in one round trip, the lists as JSON arrays in ballot order: a hall of
    representatives submits hundreds of ballots a second, and four round trips (each with
    its Python and its planning in the database) were a fifth of a submission's time. The
    same reads as `_campaign_by_slug`, `BallotItems.of` and `attempt_wait_minutes`, which
    SQLite uses (tests/test_online_views.py holds the two to the same answers)."""
    if not sql.one_round_trip_reads():
        campaign = _campaign_by_slug(slug)
        return campaign, BallotItems.of(campaign), sql.recent_attempts(client)
    row = sql.ballot_page_row(slug, client)
    if row is None:
        raise Http404
    n = len(_CAMPAIGN_ATTNAMES)
    campaign = _campaign_from_row(row[:n])
    lists = [json.loads(v) if isinstance(v, str) else v or [] for v in row[n : n + 3]]
    items = BallotItems.from_rows(*lists)
    recent = row[n + 3]
    return campaign, items, recent


def _categories(form: BallotForm) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for n, block in enumerate(form.blocks, start=1):
        if not groups or groups[-1]["category"].pk != block.unit.category_id:
            groups.append({"category": block.unit.category, "blocks": []})
        groups[-1]["blocks"].append(
            {
                "n": n,
                "unit": block.unit,
                "cells": [(c, form[c.name]) for c in block.cells],
                "comment": form[block.comment],
            }
        )
    return groups


def _render_ballot(
    request: HttpRequest, campaign: Campaign, form: BallotForm, code: str, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "ballots/online/ballot.html",
        {
            "campaign": campaign,
            "form": form,
            "code": code,
            "categories": _categories(form),
            "dimensions": form.items.dimensions,
            "n_units": len(form.blocks),
            "words": form.items.words,
            # The explanation in words, from the configuration as it is now (never text
            # stored when the campaign was created): a changed quota shows at once.
            "rules": [
                *scale_in_words(campaign),
                *quotas_in_words(campaign),
                threshold_in_words(campaign),
            ],
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def vote_ballot(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "POST":
        return _vote_ballot_post(request, slug)
    campaign, items, _recent = _ballot_reads(slug, client_address(request))
    kept = _code_of(request, slug)
    if kept is None and _receipt_of(request, slug):
        return redirect("vote_receipt", slug=slug)
    if kept is None:
        messages.info(request, _("请先输入评议码。"))
        return redirect("vote_enter_campaign", slug=slug)
    if campaign.status != Campaign.Status.OPEN:
        messages.error(request, _open_message(campaign))
        return redirect("vote_enter_campaign", slug=slug)
    form = BallotForm(initial={"code": kept}, campaign=campaign, items=items)
    return _render_ballot(request, campaign, form, kept)


def _vote_ballot_post(request: HttpRequest, slug: str) -> HttpResponse:
    client = client_address(request)
    campaign, items, recent = _ballot_reads(slug, client)
    kept = _code_of(request, slug)
    # The whole form is built only when it has something to say; a ballot it would accept as
    # it is goes straight through (forms_online.quick_ballot).
    quick = quick_ballot(request.POST, items)
    form: BallotForm | None = None
    if quick is None:
        form = BallotForm(request.POST, campaign=campaign, items=items)
        form.is_valid()
    code = normalise(request.POST.get("code", "")) or kept
    if code is None:
        messages.info(request, _("请先输入评议码。"))
        return redirect("vote_enter_campaign", slug=slug)
    if form is not None and not form.is_valid():
        return _render_ballot(request, campaign, form, code)
    if quick is not None:
        answers, comments = quick.answers, quick.comments
    else:
        assert form is not None  # built above whenever there is no quick ballot
        answers, comments = form.answers(), form.comments()
    try:
        receipt = ballot_submit(
            campaign=campaign,
            code=code,
            answers=answers,
            comments=comments,
            layout=Layout.build(
                campaign,
                (u.pk for u in items.units),
                (d.pk for d in items.dimensions),
                (o.pk for o in items.options),
            ),
        )
    except CodeRefused as exc:
        # A code that did not come through the entry page is subject to the same limit:
        # counted when wrong, refused with the wait once the client is over it.
        if exc.reason in FAILURES:
            if attempt_wait_minutes(client, recent=recent):
                return _limited(
                    request, "ballots/online/enter.html",
                    {"campaign": campaign, "form": CodeForm()},
                )
            attempt_record(client=client, campaign=campaign, reason=exc.reason)
        messages.error(request, str(exc))
        return _forget_code(redirect("vote_enter_campaign", slug=slug), slug)
    except BallotError as exc:
        if form is None:
            form = BallotForm(request.POST, campaign=campaign, items=items)
            form.is_valid()
        form.add_error(None, str(exc))
        return _render_ballot(request, campaign, form, code)
    response = HttpResponseRedirect(reverse("vote_receipt", args=[slug]), status=303)
    _forget_code(response, slug)
    return _with_receipt(response, slug, receipt.number, receipt.on, receipt.repeated)


@never_cache
@require_http_methods(["GET"])
def vote_receipt(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    found = _receipt_of(request, slug)
    if found is None:
        return redirect("vote_enter_campaign", slug=slug)
    number, on, repeated = found
    return render(
        request,
        "ballots/online/receipt.html",
        {"campaign": campaign, "receipt": number, "on": on, "repeated": repeated},
    )
