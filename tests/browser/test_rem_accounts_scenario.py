"""REM chapter 5 accounts in the browser, screenshots kept as evidence under var/artefacts/rem/<id>/:
an expired administrator password forcing a change with weak and reused passwords refused (SC.SSI/IAM.92,
IE.36), the recovery address verified by a code received over SMTP and the previous one told (IE.31, IE.32),
the stored attributes (IE.33), the account traces (IAM.91), the account export (IAM.94) and the directory
synchronisation (IAM.83) in the admin."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dpi.accounts.sync import run_directory_sync
from dpi.models import DirectoryGroupMapping, User
from tests.accounts.servers import directory, slapd, smtp, smtp_server  # noqa: F401  (fixtures)
from tests.browser.helpers import log_in, rem_shots
from tests.factories import PASSWORD, CareUnitFactory, MembershipFactory, RoleFactory, UserFactory, rpps_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRONG = "Chirurgie-Visc3rale-2027!"


def _change_password(page, new: str) -> None:
    page.get_by_label("Mot de passe actuel").fill(PASSWORD)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(new)
    page.get_by_label("Nouveau mot de passe (confirmation)").fill(new)
    page.get_by_role("button", name="Changer le mot de passe").click()


def test_an_expired_administrator_password_must_be_changed_and_weak_or_reused_ones_are_refused(page, live_server):
    shots = rem_shots("SC.SSI/IAM.92")
    admin = UserFactory(username="admin.si", first_name="Alex", is_staff=True, is_superuser=True)
    User.objects.filter(pk=admin.pk).update(password_changed_at=timezone.now() - timedelta(days=91))

    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_test_id("password-expired").wait_for()
    assert "/accounts/password/change/" in page.url
    shots(page, "expired-password-asks-a-change")

    _change_password(page, "Court-M0t-2027")  # 14 characters, the four classes
    errors = page.get_by_test_id("password-errors")
    assert "au moins 15 caractères" in errors.inner_text()
    shots(page, "14-characters-refused")

    _change_password(page, "sans-majuscule-ni-chiffre")
    assert "majuscule, chiffre" in page.get_by_test_id("password-errors").inner_text()
    shots(page, "no-capital-no-digit-refused")

    _change_password(page, "12345678901234")
    assert "entièrement numérique" in page.get_by_test_id("password-errors").inner_text()
    shots(page, "14-digits-refused")

    _change_password(page, PASSWORD)
    assert "déjà été utilisé" in page.get_by_test_id("password-errors").inner_text()
    shots(page, "reused-refused")

    _change_password(page, STRONG)
    page.get_by_test_id("user-name").wait_for()
    page.goto(f"{live_server.url}/admin/")
    assert "Administration du DPI" in page.content()
    shots(page, "admin-after-the-change")

    page.goto(f"{live_server.url}/admin/dpi/accountevent/?action__exact=password.change_failure")
    assert page.locator("#result_list tbody tr").count() == 4
    shots(page, "refused-changes-in-the-traces")


def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(page, live_server, settings):
    shots = rem_shots("SC.SSI/IE.36")
    user = MembershipFactory().user

    def attempt(password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Identifiant", exact=True).fill(user.username)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()

    for _ in range(settings.LOGIN_ATTEMPTS_LIMIT):
        attempt("pas-le-bon")
    shots(page, "wrong-password")
    attempt(PASSWORD)  # the right password, too late
    page.get_by_text("Trop de tentatives de connexion échouées").wait_for()
    assert "/accounts/2fa/" not in page.url
    shots(page, "locked-even-with-the-right-password")


def test_a_recovery_address_is_verified_by_a_code_and_the_previous_one_is_told(page, live_server, smtp):  # noqa: F811
    shots = rem_shots("SC.SSI/IE.31")
    user = MembershipFactory(user=UserFactory(email="c.soignant@ancien.test")).user
    log_in(page, live_server, user)
    page.get_by_test_id("my-account-link").click()
    assert "non vérifiée" in page.get_by_test_id("contact-state").inner_text()
    shots(page, "my-account-unverified")

    page.get_by_label("Nouvelle adresse").fill("c.soignant@hopital.test")
    page.get_by_role("button", name="Envoyer un code").click()
    page.get_by_label("Code reçu").wait_for()
    shots(page, "code-sent")
    [mail] = smtp.to("c.soignant@hopital.test")
    code = re.search(r"\b(\d{6})\b", smtp.text(mail)).group(1)

    page.get_by_label("Code reçu").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Vérifier").click()
    assert "Code incorrect." in page.get_by_test_id("code-errors").inner_text()
    shots(page, "wrong-code-refused")

    page.get_by_label("Code reçu").fill(code)
    page.get_by_role("button", name="Vérifier").click()
    assert "c.soignant@hopital.test, vérifiée le" in page.get_by_test_id("contact-state").inner_text()
    shots(page, "address-verified")

    ie32_shots = rem_shots("SC.SSI/IE.32")
    ie32_shots(page, "address-changed-after-a-code")
    [notice] = smtp.to("c.soignant@ancien.test")
    assert "adresse électronique" in smtp.text(notice)

    ie33_shots = rem_shots("SC.SSI/IE.33")
    assert user.rpps in page.get_by_test_id("account-attributes").inner_text()
    ie33_shots(page, "stored-attributes")


def test_administrators_browse_and_export_the_account_traces_and_the_accounts(page, live_server):
    shots = rem_shots("SC.SSI/IAM.91")
    user = MembershipFactory().user
    log_in(page, live_server, user)  # a sign-in
    page.get_by_role("button", name="Se déconnecter").click()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant", exact=True).fill(user.username)
    page.get_by_label("Mot de passe").fill("pas-le-bon")
    page.get_by_role("button", name="Se connecter").click()  # a failure
    page.get_by_text("L'identifiant ou le mot de passe est incorrect.").wait_for()

    admin = UserFactory(username="admin.si", is_staff=True, is_superuser=True)
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/dpi/accountevent/")
    rows = page.locator("#result_list tbody")
    assert "échec de connexion" in rows.inner_text() and "connexion réussie" in rows.inner_text()
    shots(page, "account-traces")
    page.get_by_role("link", name="échec de connexion").click()
    shots(page, "failed-sign-ins")

    page.goto(f"{live_server.url}/admin/dpi/user/{user.pk}/change/")
    page.locator("#id_last_name").fill("Nouveau-Nom")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    page.goto(f"{live_server.url}/admin/dpi/accountevent/?action__exact=user.change")
    assert "NOUVEAU-NOM" in page.locator("#result_list").inner_text()
    shots(page, "identity-change")

    page.goto(f"{live_server.url}/admin/dpi/accountevent/?action__exact=login.failure")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("export_csv")
    with page.expect_download() as download:
        page.get_by_role("button", name="Envoyer").click()
    exported = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read()), delimiter=";"))
    assert {row["action"] for row in exported} == {"login.failure"}

    export_shots = rem_shots("SC.SSI/IAM.94")
    page.goto(f"{live_server.url}/admin/dpi/user/")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("export_accounts")
    export_shots(page, "export-every-account")
    with page.expect_download() as download:
        page.get_by_role("button", name="Envoyer").click()
    accounts = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read()), delimiter=";"))
    assert {row["identifiant"] for row in accounts} == {user.username, admin.username}
    page.goto(f"{live_server.url}/admin/dpi/accountevent/?action__exact=account.export")
    assert page.locator("#result_list tbody tr").count() == 1
    export_shots(page, "the-export-is-traced")


def test_the_directory_synchronisation_shows_added_changed_and_deactivated_accounts(page, live_server, directory):  # noqa: F811
    shots = rem_shots("SC.SSI/IAM.83")
    unit, role = CareUnitFactory(code="6268", name="Chirurgie viscérale"), RoleFactory(code="medecin")
    jeanne = directory.add_person("jdupont", "Dupont", "Jeanne", employeeNumber=rpps_number(601))
    paul = directory.add_person("pmartin", "Martin", "Paul")
    group = directory.add_group("chirurgiens", [jeanne, paul])
    DirectoryGroupMapping.objects.create(group_dn=group, role=role, care_unit=unit)
    run_directory_sync()
    directory.modify(jeanne, sn="Durand-Dupont")
    directory.delete(paul)
    directory.add_person("bad", "Mauvais", "Rpps", employeeNumber="12345678901")
    run_directory_sync()

    admin = UserFactory(username="admin.si", is_staff=True, is_superuser=True)
    log_in(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/dpi/directorygroupmapping/")
    shots(page, "group-mappings")
    page.goto(f"{live_server.url}/admin/dpi/directorysyncrun/")
    shots(page, "synchronisations")
    page.locator("#result_list tbody tr").first.locator("a").first.click()
    assert "RPPS invalide : 12345678901" in page.locator("#content").inner_text()
    shots(page, "last-run-report")
    page.goto(f"{live_server.url}/admin/dpi/user/?q=dupont")
    assert "Durand-Dupont" in page.locator("#result_list").inner_text()
    page.goto(f"{live_server.url}/admin/dpi/user/?is_active__exact=0")
    assert "pmartin" in page.locator("#result_list").inner_text()
    shots(page, "deactivated-account")
    page.goto(f"{live_server.url}/admin/dpi/accountevent/?action__exact=user.change")
    shots(page, "changes-in-the-traces")
