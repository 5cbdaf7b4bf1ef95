from django.urls import path

from documents import views

app_name = "documents"
urlpatterns = [
    path("documents/mes-brouillons/", views.worklist, {"which": "mine"}, name="my_drafts"),
    path("documents/a-valider/", views.worklist, {"which": "to_validate"}, name="to_validate"),
    path("documents/listes/compteurs/", views.worklist_counts, name="worklist_counts"),
    path("patients/<int:pk>/documents/", views.document_list, name="list"),
    path("patients/<int:pk>/documents/nouveau/<str:type_code>/", views.document_new, name="new"),
    path("patients/<int:pk>/documents/importer/", views.document_import, name="import"),
    path("patients/<int:pk>/documents/importer-pdf/", views.file_import, name="import_file"),
    path("documents/<int:pk>/", views.document_detail, name="detail"),
    path("documents/<int:pk>/modifier/", views.document_edit, name="edit"),
    path("documents/<int:pk>/corriger/", views.document_correct, name="correct"),
    path("documents/<int:pk>/supprimer/", views.document_delete, name="delete"),
    path("documents/<int:pk>/v<int:number>/pdf/", views.version_pdf, name="pdf"),
    path("documents/<int:pk>/v<int:number>/cda/", views.version_cda_rendering, name="cda"),
    path("documents/<int:pk>/v<int:number>/cda.xml", views.version_cda_download, name="cda_download"),
]
