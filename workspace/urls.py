from django.urls import path

from workspace import setup, views

urlpatterns = [
    # Before c/<slug>/: "new" is a page, not a campaign (workspace/forms.py RESERVED_SLUGS).
    path("c/new/", views.campaign_new, name="campaign_new"),
    path("c/<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("c/<slug:slug>/status/<str:action>/", views.campaign_status, name="campaign_status"),
    path("c/<slug:slug>/setup/units/", setup.setup_units, name="setup_units"),
    path("c/<slug:slug>/setup/representatives/", setup.setup_representatives,
         name="setup_representatives"),
    path("c/<slug:slug>/setup/rules/", setup.setup_rules, name="setup_rules"),
    path("c/<slug:slug>/setup/config/", setup.setup_config, name="setup_config"),
]
