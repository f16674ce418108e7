"""The public 公示 of the retained list (no login), from the copy fixed at publication."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from registry.models import Cleanup
from registry.stats import outcome_header


def _day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@require_GET
def public_list(request: HttpRequest, slug: str) -> HttpResponse:
    cleanup = get_object_or_404(Cleanup, slug=slug, published_at__isnull=False,
                                status__in=[Cleanup.Status.PUBLICITY, Cleanup.Status.DONE])
    pub = cleanup.publication
    notice = dict(pub.get("notice", {}))
    notice["from"], notice["to"] = _day(notice.get("from", "")), _day(notice.get("to", ""))
    return render(request, "registry/public.html", {
        "cleanup": cleanup, "retained": pub.get("retained", []),
        "counts": pub.get("counts", []), "total": pub.get("total", []), "notice": notice,
        "header": outcome_header(),
    })
