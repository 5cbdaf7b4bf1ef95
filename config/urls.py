"""Root URLconf: every app's pages and the REST API (``/api/``) with its OpenAPI description."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from consent.api import EpisodeViewSet
from patients.api import PatientViewSet
from patients.views import home
from stats.api import IndicatorsView

api = DefaultRouter()
api.register("patients", PatientViewSet, basename="patient")
api.register("episodes", EpisodeViewSet, basename="episode")

urlpatterns = [
    path("", home, name="home"),
    path("", include("dpi.urls")),
    path("compte/", include("dpi.accounts.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("patients/identitovigilance/", include("mss.vigilance_urls")),
    path("patients/", include("patients.urls")),
    path("patients/", include("consent.urls")),
    path("patients/", include("directory.urls")),
    path("", include("documents.urls")),
    path("mssante/", include("mss.urls")),
    path("dmp/", include("dmp.urls")),
    path("statistiques/", include("stats.urls")),
    path("api/", include([*api.urls, path("indicateurs/", IndicatorsView.as_view(), name="indicators")])),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
