from django.urls import path

from patients import views

app_name = "patients"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.patient_file, name="file"),
    path("<int:pk>/urgence/", views.emergency_access, name="emergency_access"),
    path("<int:pk>/venues/<int:episode_pk>/episode-de-soins/", views.care_episode_link, name="care_episode_link"),
]
