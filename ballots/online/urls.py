from django.urls import path

from ballots.online import views as v
from ballots.online import views_codes as c

urlpatterns = [
    # Representatives (no login): the code is in POST bodies and the session, not in URLs.
    path("v/", v.vote_enter, name="vote_enter"),
    path("v/<slug:slug>/", v.vote_enter, name="vote_enter_campaign"),
    path("v/<slug:slug>/ballot/", v.vote_ballot, name="vote_ballot"),
    path("v/<slug:slug>/receipt/", v.vote_receipt, name="vote_receipt"),
    # Staff.
    path("c/<slug:slug>/representatives/", c.representatives, name="representatives"),
    path("c/<slug:slug>/codes/", c.codes, name="codes"),
    path("c/<slug:slug>/codes/generate/", c.codes_generate, name="codes_generate"),
    path("c/<slug:slug>/codes/download/", c.codes_download, name="codes_download"),
    path("c/<slug:slug>/codes/slips/", c.codes_slips, name="codes_slips"),
    path("c/<slug:slug>/codes/attempts/", c.code_attempts, name="code_attempts"),
    path(
        "c/<slug:slug>/codes/<uuid:code_id>/<str:action>/",
        c.code_change,
        name="code_change",
    ),
]
