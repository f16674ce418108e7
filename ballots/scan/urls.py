from django.urls import path

from ballots.scan import views as v

urlpatterns = [
    path("c/<slug:slug>/scan/", v.scan_desk, name="scan_desk"),
    path("c/<slug:slug>/scan/upload/", v.scan_upload, name="scan_upload"),
    path("c/<slug:slug>/scan/confirm/", v.scan_confirm, name="scan_confirm"),
    path("c/<slug:slug>/scan/serial/", v.scan_serial, name="scan_serial"),
    path("c/<slug:slug>/scan/sample/", v.scan_sample, name="scan_sample"),
    path("c/<slug:slug>/scan/pages/<uuid:page_id>/aside/", v.scan_set_aside, name="scan_set_aside"),
    path("c/<slug:slug>/scan/pages/<uuid:page_id>/image/", v.scan_page_image, name="scan_page_image"),
    path(
        "c/<slug:slug>/scan/pages/<uuid:page_id>/rows/<int:row>/",
        v.scan_row_image,
        name="scan_row_image",
    ),
]
