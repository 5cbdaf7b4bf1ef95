"""REST endpoints on patients: identity search for SIH peers and users."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from dpi.api import PeerScopeOrUser, calling_peer
from dpi.models import AuditEvent, Peer
from dpi.services import audit
from patients.models import Patient
from patients.selectors import accessible_patients


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = [
            "id",
            "ipp",
            "ins",
            "ins_oid",
            "identity_status",
            "birth_name",
            "used_name",
            "first_names",
            "used_first_name",
            "birth_date",
            "sex",
            "birth_place_insee",
        ]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("ins", str, description="Matricule INS"),
            OpenApiParameter("ipp", str, description="IPP"),
            OpenApiParameter("name", str, description="Début du nom de naissance ou utilisé"),
            OpenApiParameter("birth_date", str, description="Date de naissance AAAA-MM-JJ"),
        ]
    )
)
class PatientViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PatientSerializer
    permission_classes = [PeerScopeOrUser]
    peer_scope = Peer.Scope.PATIENTS_READ

    def get_queryset(self) -> QuerySet[Patient]:
        base = Patient.objects.all() if calling_peer(self.request) else accessible_patients(self.request.user)
        params = self.request.query_params
        if ins := params.get("ins"):
            base = base.filter(ins=ins)
        if ipp := params.get("ipp"):
            base = base.filter(ipp=ipp)
        if name := params.get("name"):
            base = base.filter(birth_name__istartswith=name) | base.filter(used_name__istartswith=name)
        if birth_date := params.get("birth_date"):
            serializers.DateField().run_validation(birth_date)
            base = base.filter(birth_date=birth_date)
        return base.order_by("birth_name", "pk")

    def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:
        patient = self.get_object()
        peer = calling_peer(request)
        audit(
            action=AuditEvent.Action.PATIENT_OPEN,
            actor=None if peer else request.user,
            peer=peer,
            request=request,
            obj=patient,
            patient_id=patient.pk,
            detail={"channel": "api"},
        )
        return Response(self.get_serializer(patient).data)
