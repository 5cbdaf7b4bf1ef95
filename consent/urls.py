from django.urls import path

from consent import views

app_name = "consent"
urlpatterns = [
    path("<int:pk>/consentement/", views.record, name="record"),
]
