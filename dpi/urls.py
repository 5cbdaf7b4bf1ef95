from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dpi import views

urlpatterns = [
    path("", views.home, name="home"),
    path("unite/", views.select_care_unit, name="select_care_unit"),
    path("information/", views.notice, name="notice"),
    path("compte/", include("dpi.accounts.urls")),
    path("admin/", admin.site.urls),
    path("accounts/inactivite/", views.idle_state, name="idle_state"),
    path("accounts/", include("allauth.urls")),
    path("patients/", include("patients.urls")),
    path("patients/", include("consent.urls")),
    path("patients/", include("directory.urls")),
    path("", include("documents.urls")),
    path("mssante/", include("mss.urls")),
    path("dmp/", include("dmp.urls")),
    path("statistiques/", include("stats.urls")),
    path("api/", include("dpi.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
