"""Effective DMP rights of a visit: the one place every later feature asks (DSR 3.2.2 a).

* feeding: allowed by default, forbidden only when the patient, informed, opposed it;
* consultation: forbidden by default, allowed only when the patient, informed, did not oppose.

A choice applies to the whole care team for the whole episode of care: the effective state of
a visit is the latest decision recorded on any visit of its episode of care.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from consent.models import ConsentDecision, State, Subject
from patients.models import Episode


@dataclass(frozen=True)
class EffectiveConsent:
    subject: str
    state: str
    decision: ConsentDecision | None  # where the state comes from; None: the default

    @property
    def allowed(self) -> bool:
        if self.subject == Subject.FEEDING:
            return self.state != State.INFORMED_OPPOSED
        return self.state == State.INFORMED_NOT_OPPOSED

    @property
    def state_label(self) -> str:
        return State(self.state).label

    @property
    def source_label(self) -> str:
        """Where the effective choice comes from, in words."""
        decision = self.decision
        if decision is None:
            return "valeur par défaut (patient non informé)"
        origin = {
            "pam": f"flux PAM (message {decision.message.control_id})" if decision.message else "flux PAM",
            "ui": _ui_origin(decision),
            "api": f"partenaire {decision.peer}",
        }[decision.source]
        collected = timezone.localtime(decision.collected_at)  # Europe/Paris, as every time the user reads
        return f"{origin}, venue {decision.episode.visit_number}, le {collected:%d/%m/%Y %H:%M}"


def _ui_origin(decision: ConsentDecision) -> str:
    if not decision.actor_name:
        return "saisie dans le DPI"
    return f"{decision.actor_name} (RPPS {decision.actor_rpps})" if decision.actor_rpps else decision.actor_name


def _visits_filter(episode: Episode) -> Q:
    if episode.care_episode_id:
        return Q(episode__care_episode_id=episode.care_episode_id)
    return Q(episode_id=episode.pk)


def effective_consent(episode: Episode, subject: str) -> EffectiveConsent:
    decision = (
        ConsentDecision.objects.filter(_visits_filter(episode), subject=subject)
        .select_related("episode", "message")
        .order_by("-collected_at", "-recorded_at", "-pk")
        .first()
    )
    return _effective(subject, decision)


def effective_states(episode: Episode, subjects: Iterable[str]) -> dict[str, str]:
    """The effective state alone of each subject (one light query), for writers that only compare states."""
    rows = (
        ConsentDecision.objects.filter(_visits_filter(episode), subject__in=list(subjects))
        .order_by("-collected_at", "-recorded_at", "-pk")
        .values_list("subject", "state")
    )
    states = dict.fromkeys(subjects, State.NOT_INFORMED.value)
    seen: set[str] = set()
    for subject, state in rows:  # the latest first: a visit's episode of care holds a few decisions
        if subject not in seen:
            seen.add(subject)
            states[subject] = state
    return states


def effective_consents(episode: Episode) -> dict[str, EffectiveConsent]:
    return {subject: effective_consent(episode, subject) for subject in Subject.values}


def effective_consents_for(episodes: Iterable[Episode]) -> dict[int, dict[str, EffectiveConsent]]:
    """Effective consents of many visits with one query (lists and the API)."""
    episodes = list(episodes)
    decisions = (
        ConsentDecision.objects.filter(
            Q(episode__care_episode_id__in={e.care_episode_id for e in episodes if e.care_episode_id})
            | Q(episode_id__in=[e.pk for e in episodes if not e.care_episode_id])
        )
        .select_related("episode", "message")
        .order_by("-collected_at", "-recorded_at", "-pk")
    )
    latest: dict[tuple[str, str], ConsentDecision] = {}
    for decision in decisions:
        latest.setdefault((_group_key(decision.episode), decision.subject), decision)
    return {
        e.pk: {subject: _effective(subject, latest.get((_group_key(e), subject))) for subject in Subject.values}
        for e in episodes
    }


def _group_key(episode: Episode) -> str:
    """The episode of care a visit belongs to, or the visit itself when it has none."""
    return f"c{episode.care_episode_id}" if episode.care_episode_id else f"v{episode.pk}"


def _effective(subject: str, decision: ConsentDecision | None) -> EffectiveConsent:
    return EffectiveConsent(subject, decision.state if decision else State.NOT_INFORMED, decision)


def can_feed_dmp(episode: Episode) -> bool:
    return effective_consent(episode, Subject.FEEDING).allowed


def can_consult_dmp(episode: Episode) -> bool:
    return effective_consent(episode, Subject.CONSULTATION).allowed


def consent_history(episode: Episode) -> QuerySet[ConsentDecision]:
    """Every decision of the episode of care, newest first."""
    return (
        ConsentDecision.objects.filter(_visits_filter(episode))
        .select_related("episode", "message", "actor")
        .order_by("-collected_at", "-recorded_at", "-pk")
    )
