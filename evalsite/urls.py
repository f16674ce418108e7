from django.contrib import admin
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.utils.functional import lazy
from django.views.generic.base import RedirectView

from core.login import AdminLoginForm, login

# The admin's login page is throttled like the staff login page (core/login.py).
admin.site.login_form = AdminLoginForm

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links: send them to the SVG mark.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"), permanent=True)),
    # Before Django's own auth URLs, so that this throttled view answers /accounts/login/.
    path("accounts/login/", login, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("core.urls")),
    path("", include("campaigns.urls")),
    path("", include("ballots.online.urls")),
    path("", include("ballots.paper.urls")),
    path("", include("ballots.intake.urls")),
    path("", include("ballots.scan.urls")),
    path("", include("scoring.urls")),
    path("", include("assessments.urls")),
    path("", include("assessments.entry_urls")),
    path("", include("rectification.contact_urls")),
    path("", include("rectification.staff_urls")),
    path("", include("rectification.public_urls")),
    path("", include("registry.urls")),
    path("", include("workspace.urls")),
]
# No route serves MEDIA_ROOT, not even under DEBUG: generated files are private
# (core/files.py) and leave only through the job download view (core/views.py).
