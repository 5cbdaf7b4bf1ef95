from django.urls import path

from patients import views, views_ins, views_review

app_name = "patients"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:pk>/", views.patient_file, name="file"),
    path("<int:pk>/urgence/", views.emergency_access, name="emergency_access"),
    path("acces-urgence/revue/", views_review.emergency_review, name="emergency_review"),
    path("acces-urgence/<int:pk>/revu/", views_review.mark_reviewed, name="emergency_reviewed"),
    path("<int:pk>/venues/<int:episode_pk>/episode-de-soins/", views.care_episode_link, name="care_episode_link"),
    path("<int:pk>/traces-ins/", views_ins.ins_traces, name="ins_traces"),
    path("<int:pk>/traces-ins.csv", views_ins.ins_traces_csv, name="ins_traces_csv"),
]
