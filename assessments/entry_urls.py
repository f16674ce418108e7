from django.urls import path

from assessments import entry_views

urlpatterns = [
    path("a/<slug:slug>/entries/", entry_views.entry_list, name="assessment_entries"),
    path("a/<slug:slug>/entries/new/", entry_views.entry_new, name="assessment_entry_new"),
    path("a/<slug:slug>/entries/upload/", entry_views.entries_upload,
         name="assessment_entries_upload"),
    path("a/<slug:slug>/entries/<int:pk>/decide/", entry_views.entry_decide,
         name="assessment_entry_decide"),
    path("a/<slug:slug>/entries/<int:pk>/evidence/", entry_views.entry_evidence,
         name="assessment_entry_evidence"),
    path("a/<slug:slug>/mine/", entry_views.my_entries, name="assessment_my_entries"),
]
