"""The API's contract beyond the serializers: the peers' token and the error answers in the OpenAPI
schema, paging parameters checked like the others, identifiers that are whole numbers.

The API fuzz test (``tests/api/test_api_fuzz.py``) holds every answer to the schema, so each status code
an endpoint can give is listed here with its body, and a parameter outside the schema is a 4xx.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from dpi.validators import is_database_id

# Far beyond any table here, far below PostgreSQL's bigint (a larger OFFSET was a 500).
MAX_OFFSET = 10**9


class PeerTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <token>`` of a peer of the hospital information system."""

    target_class = "dpi.api.PeerTokenAuthentication"
    name = "peerToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Jeton d'un partenaire du SIH, précédé du mot « Token » (`Token <jeton>`).",
        }


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# DRF's 400: either {"detail": "..."} (unreadable body) or the refused fields with their messages.
VALIDATION_ERROR = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    },
}

ERRORS = {
    400: OpenApiResponse(VALIDATION_ERROR, description="Paramètre ou corps invalide"),
    401: OpenApiResponse(ErrorSerializer, description="Jeton absent, invalide ou révoqué"),
    403: OpenApiResponse(
        ErrorSerializer,
        description="Portée du partenaire insuffisante, second facteur ou notice à faire, jeton CSRF de la session",
    ),
    404: OpenApiResponse(ErrorSerializer, description="Inconnu, ou hors de l'habilitation (refus audité)"),
    415: OpenApiResponse(ErrorSerializer, description="Type de contenu du corps non pris en charge"),
}


def responses(success: int, body: object, *errors: int) -> dict[int, object]:
    """The ``responses`` of an operation: its success and the listed error codes."""
    return {success: body, **{code: ERRORS[code] for code in errors}}


class CheckedLimitOffsetPagination(LimitOffsetPagination):
    """``limit`` (1 to ``max_limit``) and ``offset`` (0 to ``MAX_OFFSET``) are checked like the other
    parameters: a value that is not a whole number in range is a 400, never silently replaced by the
    default nor sent to PostgreSQL beyond its bigint."""

    max_limit = 500

    def get_limit(self, request: Request) -> int:
        return self._checked(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self._checked(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    @staticmethod
    def _checked(request: Request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            return serializers.IntegerField(min_value=low, max_value=high).run_validation(raw)
        except exceptions.ValidationError as error:
            raise exceptions.ValidationError({name: error.detail}) from error

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"] = {**parameter["schema"], "minimum": low, "maximum": high}
        return parameters


class WholeNumberLookupMixin:
    """Viewsets whose ``{id}`` is a whole number: any other value (``1.5``, ``²``, ``abc``) is the API's own
    JSON 404, before any query (``str.isdigit`` takes ``²`` for a digit; ``int`` does not)."""

    lookup_value_regex = "[^/]+"

    def get_object(self) -> models.Model:
        if not is_database_id(self.kwargs.get("pk", "")):  # type: ignore[attr-defined]
            raise exceptions.NotFound()
        return super().get_object()  # type: ignore[misc]
