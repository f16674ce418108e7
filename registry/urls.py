from django.urls import path

from registry import dept_views, public_views, views

urlpatterns = [
    path("reg/", views.cleanup_list, name="registry_list"),
    path("reg/new/", views.cleanup_new, name="registry_new"),
    path("reg/template.xlsx", dept_views.blank_template, name="registry_template"),
    path("reg/<slug:slug>/", views.cleanup_detail, name="registry_cleanup"),
    path("reg/<slug:slug>/status/", views.cleanup_status, name="registry_status"),
    path("reg/<slug:slug>/organisers/<int:pk>/return/", views.organiser_return_view,
         name="registry_organiser_return"),
    path("reg/<slug:slug>/activities/", views.activity_list, name="registry_activities"),
    path("reg/<slug:slug>/activities/new/", dept_views.activity_new,
         name="registry_activity_new"),
    path("reg/<slug:slug>/activities/<int:pk>/", views.activity_detail,
         name="registry_activity"),
    path("reg/<slug:slug>/activities/<int:pk>/edit/", dept_views.activity_edit,
         name="registry_activity_edit"),
    path("reg/<slug:slug>/activities/<int:pk>/withdraw/", dept_views.activity_withdraw_view,
         name="registry_activity_withdraw"),
    path("reg/<slug:slug>/rounds/new/", views.round_new, name="registry_round_new"),
    path("reg/<slug:slug>/rounds/<int:pk>/", views.round_detail, name="registry_round"),
    path("reg/<slug:slug>/publication/<str:action>/", views.publication,
         name="registry_publication"),
    path("reg/<slug:slug>/report/", views.report_start, name="registry_report"),
    path("reg/<slug:slug>/mine/", dept_views.mine, name="registry_mine"),
    path("reg/<slug:slug>/mine/<int:pk>/submit/", dept_views.submit, name="registry_submit"),
    path("reg/<slug:slug>/import/", dept_views.import_page, name="registry_import"),
    path("p/reg/<slug:slug>/", public_views.public_list, name="registry_public"),
]
