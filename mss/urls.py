from django.urls import path

from mss import views

app_name = "mss"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge/", views.badge, name="badge"),
    path("non-vus/", views.unseen, name="unseen"),
    path("documents/<int:pk>/ouvrir/", views.open_document, name="open"),
    path("patients/<int:pk>/documents/", views.patient_documents, name="patient_documents"),
    path("traces/", views.traces, name="traces"),
    path("import/", views.import_archive, name="import"),
    path("import/<int:pk>/", views.import_document, name="import_document"),
    path("import/<int:pk>/ecarter/", views.discard_import, name="discard_import"),
]
