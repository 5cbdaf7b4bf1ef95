"""The facts the usage indicators count for the DMP consultation (DSR vague 2, 3.2.7; SC.STAT/ES.01),
per FINESS géographique and over a period ``[since, until)``:

* the users for whom a DMP consultation transaction was made, per profession, beside the number of
  active users of that profession (the ratio the DSR asks for);
* the documents integrated from the DMP into the file, per document type;
* the documents downloaded from the DMP (TD3.2).

Everything is read from the traces (:class:`~dmp.models.DmpTransaction`, whose user name, national
id, profession and FINESS are frozen at the time of the transaction) and from the links of the
integrated documents (:class:`~dmp.models.IntegratedDmpDocument`, with the document's LOINC type and
the FINESS of the unit it was filed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet, Sum

from dmp.models import DmpTransaction
from documents.models import Document
from dpi.models import Membership

Kind = DmpTransaction.Kind

# Transactions that read the patient's DMP: a search, a retrieval, the contextual web PS access.
# Not counted: TD0.2/TD0.3 (existence, authorisation), TD3.3 (visibility), DRIMbox (imaging).
CONSULTATION_KINDS = (Kind.SEARCH, Kind.RETRIEVE, Kind.WEB_PS)


@dataclass(frozen=True)
class UserConsultations:
    finess_eg: str
    national_id: str
    user_name: str
    profession: str
    transactions: int


@dataclass(frozen=True)
class ProfessionUsage:
    finess_eg: str
    profession: str
    users: int  # users for whom at least one consultation transaction succeeded
    total_users: int  # active users of this profession with a membership at this FINESS

    @property
    def ratio(self) -> float | None:
        return self.users / self.total_users if self.total_users else None


@dataclass(frozen=True)
class IntegratedCount:
    finess_eg: str
    type_code: str
    type_label: str
    documents: int


def consultation_transactions(*, since: datetime, until: datetime) -> QuerySet[DmpTransaction]:
    """The successful consultation transactions of the period."""
    return DmpTransaction.objects.filter(
        kind__in=CONSULTATION_KINDS, outcome=DmpTransaction.Outcome.SUCCESS, at__gte=since, at__lt=until
    )


def consultations_per_user(*, since: datetime, until: datetime) -> list[UserConsultations]:
    """Successful consultation transactions per FINESS, user (national id) and profession."""
    rows = (
        consultation_transactions(since=since, until=until)
        .values("finess_eg", "national_id", "profession")
        .annotate(transactions=Count("pk"), user_name=Max("user_name"))
        .order_by("finess_eg", "profession", "national_id")
    )
    return [UserConsultations(**row) for row in rows]


def users_per_profession(*, since: datetime, until: datetime) -> list[ProfessionUsage]:
    """Per FINESS and profession: the users who consulted the DMP, and all the active users (with a
    membership still valid at the start of the period) they are a share of."""
    consulting = (
        consultation_transactions(since=since, until=until)
        .values_list("finess_eg", "profession")
        .annotate(users=Count("national_id", distinct=True))
        .order_by()
    )
    totals = (
        Membership.objects.filter(user__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=since.date()))
        .values_list("care_unit__site__finess_eg", "user__profession")
        .annotate(users=Count("user", distinct=True))
        .order_by()
    )
    used = {(finess, profession): users for finess, profession, users in consulting}
    total = {(finess, profession): users for finess, profession, users in totals}
    return [
        ProfessionUsage(finess, profession, used.get((finess, profession), 0), total.get((finess, profession), 0))
        for finess, profession in sorted(used.keys() | total.keys())
    ]


def integrated_documents(*, since: datetime, until: datetime) -> QuerySet[Document]:
    """The documents integrated from the DMP during the period (first integration), with their
    episode: what the rates per closed stay or per consultation are computed from."""
    return Document.objects.filter(dmp_link__integrated_at__gte=since, dmp_link__integrated_at__lt=until)


def integrated_per_type(*, since: datetime, until: datetime) -> list[IntegratedCount]:
    """Documents integrated from the DMP per FINESS and LOINC type."""
    rows = (
        integrated_documents(since=since, until=until)
        .values("finess_eg", "type_code")
        .annotate(documents=Count("pk"), type_label=Max("type_label"))
        .order_by("finess_eg", "type_code")
    )
    return [IntegratedCount(**row) for row in rows]


def downloaded_per_finess(*, since: datetime, until: datetime) -> dict[str, int]:
    """Documents retrieved from the DMP (successful TD3.2, to view or to integrate) per FINESS."""
    rows = (
        DmpTransaction.objects.filter(
            kind=Kind.RETRIEVE, outcome=DmpTransaction.Outcome.SUCCESS, at__gte=since, at__lt=until
        )
        .values_list("finess_eg")
        .annotate(documents=Sum("document_count"))
        .order_by("finess_eg")
    )
    return dict(rows)
