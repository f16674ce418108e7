from django.urls import path

from campaigns import views

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job_page"),
    path("jobs/<uuid:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:job_id>/download/", views.job_download, name="job_download"),
]
