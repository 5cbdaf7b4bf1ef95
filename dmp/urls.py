from django.urls import path

from dmp.views import consultation, contextual, feeding

app_name = "dmp"
urlpatterns = [
    path("documents/<int:pk>/envois/", feeding.feeding_line, name="feeding_line"),
    path("documents/<int:pk>/envoyer/<str:channel>/", feeding.document_send, name="document_send"),
    path("documents/<int:pk>/retirer-du-dmp/", feeding.document_withdraw, name="document_withdraw"),
    path("documents/<int:pk>/envoyer-mssante/", feeding.send_mss, name="send_mss"),
    path("envois/<int:pk>/annuler/", feeding.order_cancel, name="order_cancel"),
    path("envois/<int:pk>/liberer/", feeding.order_release, name="order_release"),
    path("patients/<int:pk>/alimentation-historique/", feeding.historical_feeding, name="historical"),
    # consultation of the patient's DMP from the file
    path("patients/<int:pk>/etat/", consultation.access_state, name="access_state"),
    path("patients/<int:pk>/dossier/", consultation.panel, name="panel"),
    path("patients/<int:pk>/nouveaux-vus/", consultation.acknowledge, name="acknowledge"),
    path("patients/<int:pk>/recherche/", consultation.search, name="search"),
    path("patients/<int:pk>/integrer/", consultation.integrate, name="integrate"),
    path("patients/<int:pk>/documents/<str:entry_uuid>/", consultation.document, name="document"),
    path("patients/<int:pk>/documents/<str:entry_uuid>/pdf/", consultation.document_pdf, name="document_pdf"),
    path("patients/<int:pk>/documents/<str:entry_uuid>/cda/", consultation.document_cda, name="document_cda"),
    path("patients/<int:pk>/documents/<str:entry_uuid>/visibilite/", contextual.make_visible, name="make_visible"),
    path("patients/<int:pk>/web-ps/<str:page>/", contextual.webps, name="webps"),
    path("patients/<int:pk>/drimbox/", contextual.drimbox, name="drimbox"),
    path("invisibles/", contextual.invisible_documents, name="invisible_documents"),
    path("invisibles/<int:document_pk>/", contextual.produced_visibility, name="produced_visibility"),
]
