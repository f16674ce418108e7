from django.urls import path

from core import views

urlpatterns = [
    path("jobs/<uuid:job_id>/", views.job_page, name="job_page"),
    path("jobs/<uuid:job_id>/status/", views.job_status, name="job_status"),
    path("jobs/<uuid:job_id>/download/", views.job_download, name="job_download"),
]
