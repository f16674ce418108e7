from django.urls import path

from scoring import verify_views, views

urlpatterns = [
    path("c/<slug:slug>/results/", views.results, name="results"),
    path("c/<slug:slug>/results/unit/<int:unit_id>/", views.unit_results, name="unit_results"),
    path("c/<slug:slug>/results/report/", views.report_start, name="report_start"),
    path("c/<slug:slug>/results/publish/", views.publish, name="results_publish"),
    path("c/<slug:slug>/results/unpublish/", views.unpublish, name="results_unpublish"),
    path("c/<slug:slug>/results/ballots/publish/", verify_views.ballots_publish,
         name="ballots_publish"),
    path("c/<slug:slug>/results/ballots/withdraw/", verify_views.ballots_withdraw,
         name="ballots_withdraw"),
    path("c/<slug:slug>/results/notary/", verify_views.notary_start, name="notary_start"),
    path("p/<slug:slug>/", views.public_results, name="public_results"),
    path("p/<slug:slug>/receipt/", verify_views.receipt_check, name="receipt_check"),
    path("p/<slug:slug>/ballots/<str:name>", verify_views.ballot_file_download,
         name="ballot_file_download"),
]
