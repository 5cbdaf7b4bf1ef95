from rest_framework.routers import DefaultRouter

from consent.api import EpisodeViewSet
from patients.api import PatientViewSet

router = DefaultRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("episodes", EpisodeViewSet, basename="episode")

urlpatterns = router.urls
