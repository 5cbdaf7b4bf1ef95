"""REST endpoint of the usage indicators for the SIH's decision-support system: the CSV's figures as JSON,
for a period, a site and a type. Peers need the scope ``stats:read``; users, the dashboard's rights."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from documents.types import SEGUR_TYPES
from dpi.api import calling_peer
from dpi.api_contract import responses
from dpi.models import AuditEvent, Peer
from dpi.services import audit
from stats.forms import IndicatorsForm, PeriodForm
from stats.indicators import CATALOGUE, Row
from stats.views import selected_rows


class IndicatorsReader(permissions.BasePermission):
    """A peer with ``stats:read``; a staff user with ``stats.view_indicators``."""

    message = "Portée du partenaire ou droit « indicateurs d'usage » insuffisant."

    def has_permission(self, request: Request, view: Any) -> bool:
        peer = calling_peer(request)
        if peer is not None:
            return peer.has_scope(Peer.Scope.STATS_READ)
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("stats.view_indicators"))


class IndicatorsQuery(serializers.Serializer):
    """Each parameter checked on its own (a malformed one is a 400 even where the period ignores it)."""

    periode = serializers.ChoiceField(choices=[kind for kind, _label in PeriodForm.KINDS], default="annee")
    mois = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", required=False, help_text="AAAA-MM (periode=mois)")
    du = serializers.DateField(required=False, help_text="AAAA-MM-JJ (periode=intervalle)")
    au = serializers.DateField(required=False, help_text="AAAA-MM-JJ inclus (periode=intervalle)")
    finess = serializers.RegexField(r"^[0-9A-Z]{9}$", required=False, help_text="FINESS géographique d'un site")
    type = serializers.ChoiceField(choices=list(SEGUR_TYPES), required=False, help_text="code LOINC d'un type Ségur")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """An empty parameter is refused, not taken for an absent one (DRF's reading of a query string)."""
        blank = {name: ["Ce paramètre ne peut être vide."] for name in self.fields if data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class IndicatorSerializer(serializers.Serializer):
    indicateur = serializers.ChoiceField(choices=list(CATALOGUE))
    libelle = serializers.CharField()
    finess_geographique = serializers.CharField()
    type_document = serializers.CharField(help_text="vide pour les indicateurs non ventilés par type")
    profession = serializers.CharField(help_text="pour DMP_CONSULT_UTILISATEURS seulement")
    mois = serializers.RegexField(r"^\d{4}-\d{2}$")
    numerateur = serializers.IntegerField()
    denominateur = serializers.IntegerField(allow_null=True, help_text="null pour un dénombrement")
    valeur = serializers.DecimalField(
        max_digits=20, decimal_places=4, allow_null=True, help_text="le compte, ou le taux (null si dénominateur nul)"
    )

    def to_representation(self, row: Row) -> dict[str, Any]:
        return super().to_representation({
            "indicateur": row.code, "libelle": CATALOGUE[row.code], "finess_geographique": row.finess,
            "type_document": row.type_code, "profession": row.profession, "mois": f"{row.month:%Y-%m}",
            "numerateur": row.numerator, "denominateur": row.denominator, "valeur": row.value,
        })  # fmt: skip


class IndicatorsAnswer(serializers.Serializer):
    du = serializers.DateField()
    au = serializers.DateField(help_text="inclus")
    indicateurs = IndicatorSerializer(many=True)


PARAMETERS = [
    OpenApiParameter("periode", str, enum=[kind for kind, _label in PeriodForm.KINDS], description="défaut : annee"),
    OpenApiParameter("mois", str, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="AAAA-MM (periode=mois)"),
    OpenApiParameter("du", {"type": "string", "format": "date"}, description="periode=intervalle"),
    OpenApiParameter("au", {"type": "string", "format": "date"}, description="periode=intervalle, inclus"),
    OpenApiParameter("finess", str, pattern=r"^[0-9A-Z]{9}$", description="FINESS géographique d'un site connu"),
    OpenApiParameter("type", str, enum=list(SEGUR_TYPES), description="type Ségur (code LOINC)"),
]


class IndicatorsView(APIView):
    """Every indicator of the period (docs/statistics.md), per FINESS géographique, type and month; each
    call is audited like a CSV download."""

    permission_classes = [IndicatorsReader]

    @extend_schema(
        operation_id="indicators", parameters=PARAMETERS, responses=responses(200, IndicatorsAnswer, 400, 401, 403)
    )
    def get(self, request: Request) -> Response:
        query = IndicatorsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        form = IndicatorsForm({name: str(value) for name, value in query.validated_data.items()})
        if not form.is_valid():
            raise exceptions.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        period, rows = selected_rows(form)
        first, last = period.since.date(), (period.until - timedelta(days=1)).date()
        audit(
            action=AuditEvent.Action.TRACE_EXPORT, request=request, peer=calling_peer(request),
            detail={"rows": len(rows), "since": period.since.isoformat(), "until": period.until.isoformat(),
                    "finess": form.cleaned_data["finess"], "type": form.cleaned_data["type"], "view": "stats:api",
                    "path": request.path},
        )  # fmt: skip
        answer = {"du": first, "au": last, "indicateurs": rows}
        return Response(IndicatorsAnswer(answer).data)
