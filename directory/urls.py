from django.urls import path

from directory import views

app_name = "directory"
urlpatterns = [
    path("<int:pk>/correspondants/", views.name, name="name"),
    path("<int:pk>/correspondants/recherche/", views.search, name="search"),
    path("<int:pk>/correspondants/annuaire/", views.annuaire, name="annuaire"),
    path("<int:pk>/correspondants/annuaire/destinataire/", views.annuaire_recipient, name="annuaire_recipient"),
    path("<int:pk>/correspondants/annuaire/nommer/", views.annuaire_name, name="annuaire_name"),
    path("<int:pk>/correspondants/<int:correspondent>/destinataire/", views.recipient_row, name="recipient_row"),
    path("correspondants/<int:pk>/retirer/", views.remove, name="remove"),
]
