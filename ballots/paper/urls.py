from django.urls import path

from ballots.paper import views as v

urlpatterns = [
    path("c/<slug:slug>/paper/", v.paper_entry, name="paper_entry"),
    path("c/<slug:slug>/paper/serial/", v.paper_serial_check, name="paper_serial_check"),
    path("c/<slug:slug>/paper/disputes/", v.paper_disputes, name="paper_disputes"),
    path("c/<slug:slug>/paper/disputes/<int:entry_id>/", v.paper_dispute, name="paper_dispute"),
    path(
        "c/<slug:slug>/paper/entries/<int:entry_id>/discard/",
        v.paper_entry_discard,
        name="paper_entry_discard",
    ),
    path("c/<slug:slug>/paper/print/", v.paper_print, name="paper_print"),
    path("c/<slug:slug>/paper/print/<int:range_id>/", v.paper_reprint, name="paper_reprint"),
    path(
        "c/<slug:slug>/paper/print/<int:range_id>/layout.json",
        v.paper_range_layout,
        name="paper_range_layout",
    ),
    path("c/<slug:slug>/paper/reconciliation/", v.reconciliation, name="reconciliation"),
    path("c/<slug:slug>/paper/ballots/", v.paper_ballots, name="paper_ballots"),
    path(
        "c/<slug:slug>/paper/ballots/<uuid:ballot_id>/invalidate/",
        v.paper_ballot_status,
        {"action": "invalidate"},
        name="paper_ballot_invalidate",
    ),
    path(
        "c/<slug:slug>/paper/ballots/<uuid:ballot_id>/restore/",
        v.paper_ballot_status,
        {"action": "restore"},
        name="paper_ballot_restore",
    ),
]
