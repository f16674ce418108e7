from django.urls import path

from ballots import views_online as v

urlpatterns = [
    # Representatives (no login): the code is in POST bodies and the session, not in URLs.
    path("v/", v.vote_enter, name="vote_enter"),
    path("v/<slug:slug>/", v.vote_enter, name="vote_enter_campaign"),
    path("v/<slug:slug>/ballot/", v.vote_ballot, name="vote_ballot"),
    path("v/<slug:slug>/receipt/", v.vote_receipt, name="vote_receipt"),
]
