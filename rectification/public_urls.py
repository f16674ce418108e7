from django.urls import path

from rectification import public_views

urlpatterns = [
    path("p/<slug:slug>/rectification/", public_views.public_progress,
         name="rectification_public"),
    path("c/<slug:slug>/rectification/publication/<str:action>/",
         public_views.progress_publication, name="rectification_publication"),
]
