"""REST endpoints on visits with their effective DMP rights, and consent recording for SIH peers."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from consent.models import Source, State, Subject
from consent.selectors import effective_consents, effective_consents_for
from consent.services import record_consent
from dpi.api import PeerScopeOrUser, calling_peer
from dpi.api_contract import CheckedLimitOffsetPagination, WholeNumberLookupMixin, responses
from dpi.models import Peer
from patients.access import AuditedObjectMixin
from patients.models import Episode
from patients.selectors import accessible_patients


class EffectiveConsentSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=State.choices)
    allowed = serializers.BooleanField()
    source = serializers.CharField(source="source_label")


class EpisodeSerializer(serializers.ModelSerializer):
    care_unit = serializers.CharField(source="care_unit.code")
    finess_eg = serializers.CharField(source="care_unit.site.finess_eg")
    dmp_feeding = serializers.SerializerMethodField()
    dmp_consultation = serializers.SerializerMethodField()

    class Meta:
        model = Episode
        fields = [
            "id", "patient", "visit_number", "nda", "kind", "admitted_at", "discharged_at", "cancelled",
            "care_unit", "finess_eg", "care_episode", "dmp_feeding", "dmp_consultation",
        ]  # fmt: skip

    def _consent(self, episode: Episode, subject: str) -> dict:
        consents = self.context.get("consents", {}).get(episode.pk) or effective_consents(episode)
        return EffectiveConsentSerializer(consents[subject]).data

    @extend_schema_field(EffectiveConsentSerializer)
    def get_dmp_feeding(self, episode: Episode) -> dict:
        return self._consent(episode, Subject.FEEDING)

    @extend_schema_field(EffectiveConsentSerializer)
    def get_dmp_consultation(self, episode: Episode) -> dict:
        return self._consent(episode, Subject.CONSULTATION)


class ConsentInputSerializer(serializers.Serializer):
    subject = serializers.ChoiceField(choices=Subject.choices)
    state = serializers.ChoiceField(choices=State.choices)
    collected_at = serializers.DateTimeField(required=False)


class EpisodeFilter(serializers.Serializer):
    """The filters of the list, checked (400 with the field otherwise: a NUL character was a 500)."""

    patient = serializers.IntegerField(required=False)
    visit_number = serializers.CharField(required=False, max_length=Episode._meta.get_field("visit_number").max_length)


VISIT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("patient", int, description="Identifiant du patient"),
            OpenApiParameter("visit_number", str, description="Numéro de venue (PV1-19)"),
        ],
        responses=responses(200, EpisodeSerializer, 400, 401, 403),
    ),
    retrieve=extend_schema(parameters=[VISIT_ID], responses=responses(200, EpisodeSerializer, 401, 403, 404)),
)
class EpisodeViewSet(WholeNumberLookupMixin, AuditedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """A retrieve is audited; a visit outside the habilitation (404, consent included) audits the refusal."""

    serializer_class = EpisodeSerializer
    pagination_class = CheckedLimitOffsetPagination
    permission_classes = [PeerScopeOrUser]
    patient_via = "patient"

    @property
    def peer_scope(self) -> str:
        return Peer.Scope.CONSENT_WRITE if self.action == "consent" else Peer.Scope.PATIENTS_READ

    def get_queryset(self) -> QuerySet[Episode]:
        episodes = Episode.objects.select_related("care_unit__site")
        if not calling_peer(self.request):
            episodes = episodes.filter(patient__in=accessible_patients(self.request.user))
        if self.action == "list":
            criteria = EpisodeFilter(data=self.request.query_params)
            criteria.is_valid(raise_exception=True)
            if patient := criteria.validated_data.get("patient"):
                episodes = episodes.filter(patient_id=patient)
            if visit_number := criteria.validated_data.get("visit_number"):
                episodes = episodes.filter(visit_number=visit_number)
        return episodes.order_by("-admitted_at", "pk")

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "consents": effective_consents_for(page)}
        return self.get_paginated_response(EpisodeSerializer(page, many=True, context=context).data)

    @extend_schema(
        request=ConsentInputSerializer,
        parameters=[VISIT_ID],
        responses=responses(201, EpisodeSerializer, 400, 401, 403, 404, 415),
    )
    @action(detail=True, methods=["post"])
    def consent(self, request: Request, pk: str | None = None) -> Response:
        """Record the patient's information/opposition collected by a peer system (same rules and history)."""
        episode = self.get_object()
        peer = calling_peer(request)  # PeerScopeOrUser already refused anonymous callers
        data = ConsentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record_consent(
            episode=episode,
            subject=data.validated_data["subject"],
            state=data.validated_data["state"],
            collected_at=data.validated_data.get("collected_at"),
            source=Source.API if peer else Source.UI,
            acting_user=None if peer else request.user,
            peer=peer,
            request=request,
        )
        return Response(EpisodeSerializer(episode, context=self.get_serializer_context()).data, status=201)
