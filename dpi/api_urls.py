from django.urls import path
from rest_framework.routers import DefaultRouter

from consent.api import EpisodeViewSet
from patients.api import PatientViewSet
from stats.api import IndicatorsView

router = DefaultRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("episodes", EpisodeViewSet, basename="episode")

urlpatterns = [*router.urls, path("indicateurs/", IndicatorsView.as_view(), name="indicators")]
