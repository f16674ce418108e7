from django.urls import path

from ballots.intake import views as views_imports

urlpatterns = [
    path("c/<slug:slug>/import/", views_imports.ballot_import, name="ballot_import"),
    path(
        "c/<slug:slug>/import/<int:batch_id>/undo/",
        views_imports.ballot_import_undo,
        name="ballot_import_undo",
    ),
]
