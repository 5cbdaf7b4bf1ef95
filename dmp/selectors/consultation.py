"""Read queries of the DMP consultation: the counting rule, its reference time, our structures,
the documents integrated from the DMP, the documents sent invisible to the patient."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from dmp.categories import CHOICES as CATEGORY_CHOICES
from dmp.clients.types import DocumentEntry
from dmp.models import (
    DmpTransaction,
    FeedingChannel,
    FeedingOrder,
    IntegratedDmpDocument,
    NewDocumentsAcknowledgement,
    NewDocumentsRule,
    OrderState,
    Purpose,
)
from dmp.models.consultation import Reference, default_episode_kinds
from documents.models import Document, DocumentVersion, Provenance, Status
from dpi.models import CareUnit, LegalEntity, Site, User
from patients.models import Episode, Patient


def new_documents_rule(user: User, care_unit: CareUnit | None) -> NewDocumentsRule:
    """The most specific rule for this user's unit and specialty (an unsaved default when none)."""
    scope = Q(care_unit__isnull=True, site__isnull=True, legal_entity__isnull=True)
    if care_unit is not None:
        site = care_unit.site
        scope |= Q(care_unit=care_unit) | Q(site_id=site.pk) | Q(legal_entity_id=site.legal_entity_id)
    rules = NewDocumentsRule.objects.filter(scope, Q(specialty="") | Q(specialty=user.specialty))
    return max(rules, key=_specificity, default=None) or NewDocumentsRule(
        categories=[key for key, _label in CATEGORY_CHOICES], episode_kinds=default_episode_kinds()
    )


def _specificity(rule: NewDocumentsRule) -> tuple[int, int, int]:
    level = 3 if rule.care_unit_id else 2 if rule.site_id else 1 if rule.legal_entity_id else 0
    return level, 1 if rule.specialty else 0, rule.pk


def first_search_start() -> datetime:
    """The oldest act date of the automatic search (DMP rule: at most two years back)."""
    return timezone.now() - timedelta(days=365 * settings.DMP_FIRST_SEARCH_YEARS)


def new_documents_since(
    rule: NewDocumentsRule, *, user: User, patient: Patient, episode: Episode, stay_started: datetime | None = None
) -> datetime:
    """Since when a document submitted to the DMP counts as new for this user on this patient.

    ``stay_started``: when the user's current stay on the file began; their consultations from then on
    are the current one, not the last one."""
    if rule.reference == Reference.DAYS:
        reference = timezone.now() - timedelta(days=rule.days)
    elif rule.reference == Reference.LAST_CONSULTATION:
        reference = _last_consultation(user, patient, before=stay_started)
    else:
        reference = _last_visit(patient, episode)
    acknowledged = (
        NewDocumentsAcknowledgement.objects.filter(user=user, patient=patient)
        .values_list("acknowledged_at", flat=True)
        .first()
    )
    return max(filter(None, [reference, acknowledged, first_search_start()]))


def _last_visit(patient: Patient, episode: Episode) -> datetime | None:
    """The end (or start) of the patient's previous visit, before the current one."""
    previous = (
        Episode.objects.filter(patient=patient, cancelled=False, admitted_at__lt=episode.admitted_at or timezone.now())
        .exclude(pk=episode.pk)
        .order_by("-admitted_at")
        .values_list("discharged_at", "admitted_at")
        .first()
    )
    return (previous[0] or previous[1]) if previous else None


def _last_consultation(user: User, patient: Patient, *, before: datetime | None) -> datetime | None:
    searches = DmpTransaction.objects.filter(
        user=user, patient=patient, kind=DmpTransaction.Kind.SEARCH, outcome=DmpTransaction.Outcome.SUCCESS
    )
    if before is not None:
        searches = searches.filter(at__lt=before)
    return searches.values_list("at", flat=True).first()


def our_structure_ids() -> frozenset[str]:
    """Every FINESS of the establishment (legal entities and sites): an author institution whose
    id carries one of them is the hospital itself, not a third party."""
    return frozenset(LegalEntity.objects.values_list("finess_ej", flat=True)) | frozenset(
        Site.objects.values_list("finess_eg", flat=True)
    )


def authored_here(entry: DocumentEntry, structures: frozenset[str]) -> bool:
    return any(author.institution_id[-9:] in structures for author in entry.authors if author.institution_id)


def integrated_links(patient: Patient) -> list[IntegratedDmpDocument]:
    return list(
        IntegratedDmpDocument.objects.filter(document__patient=patient)
        .exclude(document__status=Status.DELETED)
        .select_related("document")
    )


def integrated_unique_ids(patient: Patient) -> dict[str, int]:
    """uniqueId (CDA id) of every version in the patient's file -> its document, to mark what is already here."""
    rows = DocumentVersion.objects.filter(document__patient=patient).values_list(
        "cda_id_root", "cda_id_extension", "document_id"
    )
    return {f"{root}^{extension}" if extension else root: document for root, extension, document in rows}


def invisible_worklist(care_units: QuerySet[CareUnit] | list[CareUnit]) -> QuerySet[Document]:
    """Documents of these units the hospital sent to the DMP invisible to the patient (or to the legal
    representatives) and nobody made visible since (DSR 3.2.2 d: a work list of the announcements)."""
    sent = FeedingOrder.objects.filter(
        channel=FeedingChannel.DMP, purpose=Purpose.PUBLISH, state=OrderState.SENT
    ).values("document_id")
    return (
        Document.objects.filter(
            Q(invisible_to_patient=True) | Q(invisible_to_legal_representatives=True),
            provenance=Provenance.PRODUCED,
            care_unit__in=care_units,
            pk__in=sent,
        )
        .exclude(status=Status.DELETED)
        .select_related("patient", "care_unit")
        .order_by("act_date")
    )
