from django.urls import path

from stats import views

app_name = "stats"
urlpatterns = [
    path("", views.index, name="index"),
    path("chiffres/", views.figures, name="figures"),
    path("indicateurs.csv", views.indicators_csv, name="indicators_csv"),
    path("exports/", views.exports, name="exports"),
]
