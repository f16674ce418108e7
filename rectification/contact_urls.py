"""A unit contact's and an acceptor's rectification pages (issue 19)."""

from django.urls import path

from rectification import contact_views

urlpatterns = [
    path("r/", contact_views.my_cases, name="rect_my_cases"),
    path("r/unit/", contact_views.my_unit, name="rect_my_unit"),
    path("r/unit/feedback/<int:cu_id>/", contact_views.my_feedback, name="rect_my_feedback"),
    path("r/accept/", contact_views.to_accept, name="rect_to_accept"),
    path("r/case/<int:pk>/", contact_views.case_page, name="rect_case"),
    path("r/case/<int:pk>/report/<int:rid>/attachment/", contact_views.report_attachment,
         name="rect_report_attachment"),
]
