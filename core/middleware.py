"""Security headers on every response the site makes (static files are WhiteNoise's, served
before this runs): Content-Security-Policy, Permissions-Policy, and `Cache-Control: no-store`
for logged-in users.

- **Content-Security-Policy** from `settings.PINGYI_CSP` (directive → sources). Nothing
  external is allowed: scripts, styles, images, fonts and connections come from the site
  itself. Each request gets a fresh nonce, added to `script-src`; a template that must have
  an inline `<script>` marks it `nonce="{{ csp_nonce }}"` (context processor `csp` below,
  the name Django 6's own CSP support uses). With `PINGYI_CSP_REPORT_ONLY` the policy is
  only reported by browsers, not enforced (to try a change on a live site).
- **Permissions-Policy** from `settings.PINGYI_PERMISSIONS_POLICY`: the site uses no camera,
  microphone, location, payment or sensors, so no page (nor anything injected into one) may.
- **Cache-Control: no-store** on every response to a logged-in user: staff pages show results
  before they are published, codes, representatives' names, reports and job downloads, and
  none of it may stay in a shared computer's browser cache or a proxy. Pages for
  representatives that carry a code set their own never-cache headers (ballots/online).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import lazy

NONCE_KEY = "pingyi.csp_nonce"  # in request.META, where the CSRF middleware keeps its token too


def csp_nonce(request: HttpRequest) -> str:
    """This request's CSP nonce (made on first use)."""
    nonce = request.META.get(NONCE_KEY)
    if not nonce:
        nonce = request.META[NONCE_KEY] = secrets.token_urlsafe(16)
    return str(nonce)


def csp_header(directives: dict[str, list[str]], nonce: str | None) -> str:
    parts = []
    for name, sources in directives.items():
        values = list(sources)
        if name == "script-src" and nonce:
            values.append(f"'nonce-{nonce}'")
        parts.append(" ".join([name, *values]))
    return "; ".join(parts)


def csp(request: HttpRequest) -> dict[str, object]:
    """Template context processor: `{{ csp_nonce }}` for an inline script's nonce attribute,
    made only if a template uses it."""
    return {"csp_nonce": lazy(csp_nonce, str)(request)}


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        directives: dict[str, list[str]] = getattr(settings, "PINGYI_CSP", {})
        header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "PINGYI_CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )
        if directives and header not in response:
            # A nonce only when a page used one: the header of a page without inline script
            # then allows none at all.
            response[header] = csp_header(directives, request.META.get(NONCE_KEY))
        policy = getattr(settings, "PINGYI_PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
