from django.urls import path

from dmp.views import feeding

app_name = "dmp"
urlpatterns = [
    path("documents/<int:pk>/envois/", feeding.feeding_line, name="feeding_line"),
    path("documents/<int:pk>/envoyer/<str:channel>/", feeding.document_send, name="document_send"),
    path("documents/<int:pk>/retirer-du-dmp/", feeding.document_withdraw, name="document_withdraw"),
    path("envois/<int:pk>/annuler/", feeding.order_cancel, name="order_cancel"),
    path("envois/<int:pk>/liberer/", feeding.order_release, name="order_release"),
    path("patients/<int:pk>/alimentation-historique/", feeding.historical_feeding, name="historical"),
]
