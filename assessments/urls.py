from django.urls import path

from assessments import views

urlpatterns = [
    path("a/", views.assessment_list, name="assessment_list"),
    path("a/<slug:slug>/", views.assessment_overview, name="assessment_overview"),
    path("a/<slug:slug>/result/", views.assessment_result, name="assessment_result"),
    path("a/<slug:slug>/report/", views.assessment_report_start, name="assessment_report"),
    path("a/<slug:slug>/step/<str:step>/", views.assessment_step, name="assessment_step"),
    path("p/a/<slug:slug>/", views.assessment_public, name="assessment_public"),
    path("a/<slug:slug>/unit/<int:unit_id>/", views.assessment_unit, name="assessment_unit"),
]
