from django.urls import path

from rectification import staff_views

urlpatterns = [
    path("c/<slug:slug>/rectification/", staff_views.campaign_cases,
         name="rectification_campaign"),
    path("c/<slug:slug>/rectification/ledger/", staff_views.ledger_page,
         name="rectification_ledger"),
    path("a/<slug:slug>/rectification/", staff_views.assessment_cases,
         name="rectification_assessment"),
    path("r/staff/case/<int:pk>/", staff_views.case_page, name="rectification_staff_case"),
    path("c/<slug:slug>/rectification/followup/", staff_views.followup_start,
         name="rectification_followup"),
]
