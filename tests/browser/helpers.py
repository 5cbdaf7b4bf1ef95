"""Steps shared by the browser scenarios."""

from __future__ import annotations

from pathlib import Path

from dpi.models import User
from sandbox.demo import current_totp_code
from tests.factories import PASSWORD
from tests.support.browser import Screenshots


def rem_shots(requirement_id: str, scenario: str = "") -> Screenshots:
    """Numbered screenshots kept as the evidence of a REM requirement, under var/artefacts/rem/<id>/.

    ``rem_shots("SC.DMP/CONF.11")`` saves under ``var/artefacts/rem/SC.DMP/CONF.11/`` (emptied first);
    ``rem_shots("SC.SSI/IE.39", "poll")`` under ``.../SC.SSI/IE.39/poll/``, for a requirement proven by
    several scenarios that may run in any order or on parallel workers.
    """
    return Screenshots(str(Path("rem") / requirement_id / scenario))


def log_in(page, live_server, user: User, shots=None) -> None:
    """Password, then the current TOTP code, as a person would type them."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant", exact=True).fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    if shots:
        shots(page, "login")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_label("Code").fill(current_totp_code(user))
    if shots:
        shots(page, "second-factor")
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_selector("[data-testid=user-name]")


def qualified_patient_in(care_unit) -> tuple[User, object]:
    """A physician of ``care_unit`` and a patient with a qualified identity admitted there."""
    from tests.factories import EpisodeFactory, MembershipFactory, PatientFactory, RoleFactory

    user = MembershipFactory(care_unit=care_unit, role=RoleFactory()).user
    patient = PatientFactory(
        birth_name="DUMONT", first_names="LOUISE", ins="279035121518989", ins_oid="1.2.250.1.213.1.4.10",
        identity_status="qualifiee", sex="F",
    )  # fmt: skip
    EpisodeFactory(patient=patient, care_unit=care_unit)
    return user, patient


def start_discharge_letter(page, live_server, patient) -> None:
    """From the patient file, a new discharge letter with its required items filled (LDL-SES facts included)."""
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("link", name="Nouveau : Lettre de liaison").click()
    page.get_by_label("Motif d'hospitalisation *").fill("Cholécystite aiguë")
    page.get_by_label("Modalité d'entrée *").select_option("urgence")
    page.get_by_label("Synthèse du séjour *").fill("Cholécystectomie cœlioscopique sans complication.")
    page.get_by_label("Modalité de sortie *").select_option("domicile")
    page.get_by_label("Recherche de micro-organismes multirésistants ou émergents effectuée *").select_option("non")
    page.get_by_label("Transfusion de produits sanguins *").select_option("non")
    page.get_by_label("Administration de dérivés du sang *").select_option("non")


def accept_next_confirmation(page) -> list[str]:
    """Accept the next confirmation dialog (an irreversible-looking action asks first); the returned list
    receives its message."""
    messages: list[str] = []

    def accept(dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    return messages
