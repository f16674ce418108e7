from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from core.login import AdminLoginForm, login

# The admin's login page is throttled like the staff login page (core/login.py).
admin.site.login_form = AdminLoginForm

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    # Before Django's own auth URLs, so that this throttled view answers /accounts/login/.
    path("accounts/login/", login, name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("core.urls")),
    path("", include("campaigns.urls")),
    path("", include("ballots.online.urls")),
    path("", include("ballots.paper.urls")),
    path("", include("ballots.intake.urls")),
    path("", include("scoring.urls")),
]
# No route serves MEDIA_ROOT, not even under DEBUG: generated files are private
# (core/files.py) and leave only through the job download view (core/views.py).
