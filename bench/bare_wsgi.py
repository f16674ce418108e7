"""The online figure's floor: evalsite's WSGI application with one more path, /bench-bare/,
served by a minimal view. bench/online.py starts it exactly as the real run (gunicorn, the
same workers, --preload) and drives it with the same load generator and concurrency.

The view does the least an online submission must: Django's request handling with the
project's middleware (its settings are untouched), the CSRF check on a POST of the ballot's
fields, and one row of a ballot's shape and size inserted and committed (autocommit), into
a scratch table the bench made for the run (bench/online.py, `BARE_TABLE`). A GET hands out
the CSRF cookie, as the code page does; a POST answers with a 303 to a /receipt/ address,
which the load generator counts as acknowledged. The project's URLconf stays as it is: the
path is routed here, before Django resolves anything."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.urls import get_resolver, path
from django.views.decorators.csrf import csrf_protect

from evalsite.wsgi import application as site  # settings, apps and the URLconf, loaded

PREFIX = "/bench-bare/"
BARE_TABLE = "bench_bare_ballot"
INSERT = (
    f"INSERT INTO {BARE_TABLE} (id, campaign_id, source, serial, channel, group_id, district, "
    "status, invalid_reason, invalid_note, is_blank, batch_id, token, access_code_id, "
    "received_on, answers) VALUES (%s, 0, 'online', '', '网上', NULL, '', 'valid', '', '', "
    "false, NULL, %s, NULL, %s, %s::smallint[])"
)


# The middleware checks the token already; the decorator says so here and keeps the check
# should the settings ever change (it does not check twice).
@csrf_protect
def bare(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        get_token(request)  # the CSRF cookie, set by the middleware on the way out
        return HttpResponse(b"bare")
    # One element per unit, from the POST: the row is as big as a ballot's (66 smallints).
    answers = [int(request.POST[k]) for k in request.POST if k.startswith("u")]
    with connection.cursor() as cur:
        # A 64-character token as an anonymous ballot carries (unique, like the real one's).
        cur.execute(INSERT, [uuid.uuid4(), uuid.uuid4().hex * 2, datetime.date.today(), answers])
    return HttpResponse(status=303, headers={"Location": f"{PREFIX}receipt/"})


urlpatterns = [path(PREFIX.strip("/") + "/", bare)]


class _BareHandler(WSGIHandler):
    """Django's WSGI handler, with the same settings and middleware as evalsite's, resolving
    its requests against this module's one path."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = __name__  # type: ignore[attr-defined]  # read by resolve_request
        return super().get_response(request)


_bare = _BareHandler()
get_resolver(__name__).url_patterns  # noqa: B018  # imported now, before gunicorn forks


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(PREFIX):
        return _bare(environ, start_response)
    return site(environ, start_response)
