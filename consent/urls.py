from django.urls import path

from consent import views

app_name = "consent"
urlpatterns = [
    path("<int:pk>/consentement/", views.record, name="record"),
    path("<int:pk>/messagerie-patient/", views.patient_mailbox, name="patient_mailbox"),
]
