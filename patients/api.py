"""REST endpoints on patients: identity search for SIH peers and users."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from dpi.api import PeerScopeOrUser, calling_peer
from dpi.api_contract import CheckedLimitOffsetPagination, WholeNumberLookupMixin, responses
from dpi.models import Peer
from dpi.validators import clean_ins_matricule
from patients.access import AuditedObjectMixin
from patients.models import Patient
from patients.selectors import accessible_patients, filter_identities


class PatientSerializer(serializers.ModelSerializer):
    possible_duplicate = serializers.BooleanField(
        read_only=True, help_text="Une autre identité a le même nom de naissance, premier prénom et date de naissance."
    )

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
            "possible_duplicate",
        ]


class SearchParameters(serializers.Serializer):
    """The search criteria of the list, checked as the search page checks them (400 otherwise)."""

    name = serializers.CharField(required=False, default="", max_length=100)
    birth_date = serializers.DateField(required=False, default=None, input_formats=["iso-8601"])
    ipp = serializers.CharField(required=False, default="", max_length=64)
    ins = serializers.CharField(required=False, default="", max_length=25)

    def validate_ins(self, value: str) -> str:
        return clean_ins_matricule(value) if value.strip() else ""


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("ins", str, description="Matricule INS : 15 caractères, clé vérifiée (400 sinon)"),
            OpenApiParameter("ipp", str, description="IPP"),
            OpenApiParameter(
                "name",
                str,
                description="Début du nom de naissance ou utilisé, puis du prénom (accents, apostrophes, tirets "
                "et casse indifférents)",
            ),
            OpenApiParameter("birth_date", str, description="Date de naissance AAAA-MM-JJ"),
        ],
        responses=responses(200, PatientSerializer, 400, 401, 403),
    ),
    retrieve=extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses=responses(200, PatientSerializer, 401, 403, 404),
    ),
)
class PatientViewSet(WholeNumberLookupMixin, AuditedObjectMixin, viewsets.ReadOnlyModelViewSet):
    """A retrieve is audited (user or peer); one outside the habilitation too, as a refusal (still 404)."""

    serializer_class = PatientSerializer
    pagination_class = CheckedLimitOffsetPagination
    permission_classes = [PeerScopeOrUser]
    peer_scope = Peer.Scope.PATIENTS_READ

    def get_queryset(self) -> QuerySet[Patient]:
        base = Patient.objects.all() if calling_peer(self.request) else accessible_patients(self.request.user)
        if self.action != "list":
            return filter_identities(base)
        criteria = SearchParameters(data=self.request.query_params)
        criteria.is_valid(raise_exception=True)
        return filter_identities(base, **criteria.validated_data)
