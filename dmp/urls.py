from django.urls import path

from dmp import views

app_name = "dmp"
urlpatterns = [
    path("documents/<int:pk>/envois/", views.feeding_line, name="feeding_line"),
    path("documents/<int:pk>/envoyer/<str:channel>/", views.document_send, name="document_send"),
    path("documents/<int:pk>/retirer-du-dmp/", views.document_withdraw, name="document_withdraw"),
    path("envois/<int:pk>/annuler/", views.order_cancel, name="order_cancel"),
    path("envois/<int:pk>/liberer/", views.order_release, name="order_release"),
    path("patients/<int:pk>/alimentation-historique/", views.historical_feeding, name="historical"),
]
