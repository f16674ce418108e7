from django.urls import path

from scoring import views

urlpatterns = [
    path("c/<slug:slug>/results/", views.results, name="results"),
    path("c/<slug:slug>/results/unit/<int:unit_id>/", views.unit_results, name="unit_results"),
    path("c/<slug:slug>/results/report/", views.report_start, name="report_start"),
    path("c/<slug:slug>/results/publish/", views.publish, name="results_publish"),
    path("c/<slug:slug>/results/unpublish/", views.unpublish, name="results_unpublish"),
    path("p/<slug:slug>/", views.public_results, name="public_results"),
]
