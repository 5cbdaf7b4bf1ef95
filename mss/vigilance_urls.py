"""The identity-vigilance work list, under ``/patients/identitovigilance/`` (``config/urls.py``)."""

from django.urls import path

from mss import views_vigilance

app_name = "vigilance"
urlpatterns = [
    path("", views_vigilance.worklist, name="worklist"),
    path("refus/<int:pk>/", views_vigilance.refusal, name="refusal"),
    path("refus/<int:pk>/traite/", views_vigilance.mark_handled, name="handled"),
    path("refus/<int:pk>/integrer/", views_vigilance.file_by_hand, name="file"),
]
