"""Recovery e-mail verified by a code received over real SMTP (REM SC.SSI/IE.31), the previous contact told of
each change (IE.32), and the attributes stored about each professional (IE.33)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from dpi.models import AuditEvent, ContactVerification, User
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _code(smtp, address: str) -> str:
    [message] = smtp.to(address)
    return re.search(r"\b(\d{6})\b", smtp.text(message)).group(1)


def test_a_new_address_stays_unverified_until_the_code_sent_to_it_is_typed_back(client, smtp):
    user = UserFactory(email="")
    client.force_login(user)

    client.post(reverse("my_account_contact"), {"email": "camille@hopital.test"})
    user.refresh_from_db()
    assert user.email == ""  # not the account's contact yet
    assert "Un code a été envoyé à camille@hopital.test" in client.get(reverse("my_account")).content.decode()

    code = _code(smtp, "camille@")
    wrong = client.post(reverse("my_account_code"), {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400
    assert "Code incorrect." in wrong.content.decode()
    assert client.post(reverse("my_account_code"), {"code": code}).status_code == 302

    user.refresh_from_db()
    assert user.email == "camille@hopital.test"
    assert user.email_verified_at is not None
    events = AuditEvent.objects.filter(action=AuditEvent.Action.CONTACT_CHANGE)
    assert sorted(events.values_list("detail__step", flat=True)) == ["code_sent", "verified", "wrong_code"]


def test_changing_the_address_notifies_the_previous_one(client, smtp, django_capture_on_commit_callbacks):
    user = UserFactory(email="ancienne@hopital.test")
    client.force_login(user)
    client.post(reverse("my_account_contact"), {"email": "nouvelle@hopital.test"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("my_account_code"), {"code": _code(smtp, "nouvelle@")})

    [notice] = smtp.to("ancienne@hopital.test")
    assert "adresse électronique" in smtp.text(notice)
    assert "nouvelle@hopital.test" not in smtp.text(notice)  # the previous contact learns what changed, not to what


def test_a_code_is_refused_after_too_many_wrong_tries(client, smtp, settings):
    settings.CONTACT_CODE_MAX_ATTEMPTS = 2
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("my_account_contact"), {"email": "camille@hopital.test"})
    code = _code(smtp, "camille@")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    client.post(reverse("my_account_code"), {"code": wrong})
    client.post(reverse("my_account_code"), {"code": wrong})
    response = client.post(reverse("my_account_code"), {"code": code})
    assert "Aucun code en attente" in response.content.decode()
    assert User.objects.get(pk=user.pk).email_verified_at is None


def test_an_address_the_relay_refuses_leaves_nothing_pending_and_says_so(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # no relay there
    client.force_login(UserFactory())
    response = client.post(reverse("my_account_contact"), {"email": "camille@hopital.test"})
    assert response.status_code == 400
    assert "n'a pas pu être envoyé" in unescape(response.content.decode())
    assert not ContactVerification.objects.exists()


def test_an_administrator_changing_names_and_address_sends_a_code_and_notifies_the_previous_address(
    admin_client, smtp, django_capture_on_commit_callbacks
):
    user = UserFactory(email="ancienne@hopital.test", last_name="Martin")
    form = {
        "username": user.username, "first_name": user.first_name, "last_name": "Martin-Durand",
        "email": "nouvelle@hopital.test", "national_id_type": "RPPS", "rpps": user.rpps, "profession": "10",
        "is_active": "on", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00",
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/dpi/user/{user.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]

    user.refresh_from_db()
    assert user.email == "nouvelle@hopital.test"
    assert user.email_verified_at is None
    assert len(smtp.to("nouvelle@hopital.test")) == 1  # the code, typed in by the user in "Mon compte"
    [notice] = smtp.to("ancienne@hopital.test")
    assert "nom" in smtp.text(notice) and "adresse électronique" in smtp.text(notice)


def test_my_account_shows_the_stored_attributes_and_the_facility_identifiers(client):
    membership = MembershipFactory()
    user = membership.user
    User.objects.filter(pk=user.pk).update(private_id="6c1f-matricule")
    client.force_login(user)
    page = client.get(reverse("my_account")).content.decode()
    for value in (user.username, user.rpps, "6c1f-matricule", "Médecin", membership.care_unit.site.finess_eg,
                  membership.care_unit.site.legal_entity.finess_ej):  # fmt: skip
        assert value in page


def test_a_password_reset_link_goes_only_to_a_verified_address(client, smtp):
    from django.utils import timezone

    UserFactory(email="verifiee@hopital.test", email_verified_at=timezone.now())
    UserFactory(email="non-verifiee@hopital.test")
    for address in ("verifiee@hopital.test", "non-verifiee@hopital.test"):
        client.post(reverse("account_reset_password"), {"email": address})
    [link] = smtp.to("verifiee@hopital.test")
    assert "/accounts/password/reset/key/" in smtp.text(link)
    assert all("/accounts/password/reset/key/" not in smtp.text(m) for m in smtp.to("non-verifiee@hopital.test"))


def test_codes_asked_too_often_are_refused_so_the_dpi_floods_no_mailbox(client, smtp, settings):
    settings.CONTACT_CODES_PER_HOUR = 2
    client.force_login(UserFactory())
    for n in range(3):
        response = client.post(reverse("my_account_contact"), {"email": f"cible{n}@hopital.test"})
    assert "Trop de codes demandés" in unescape(response.content.decode())
    assert len(smtp.messages) == 2


def test_my_account_costs_the_same_queries_with_one_membership_or_four(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = MembershipFactory().user
    client.force_login(user)
    client.get(reverse("my_account"))  # warms the session's first-request checks

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("my_account")).status_code == 200
        return len(captured)

    one = queries()
    for _ in range(3):
        MembershipFactory(user=user)
    assert queries() == one


TEMPORARY = "Un-mot-de-passe-provisoire-9"


def test_an_account_created_by_an_administrator_gets_a_code_at_its_address_and_a_temporary_password(admin_client, smtp):
    form = {
        "username": "nouvelle.ide", "password1": TEMPORARY, "password2": TEMPORARY,
        "usable_password": "true", "first_name": "Inès", "last_name": "Nouvelle", "email": "ines@hopital.test",
        "national_id_type": "NONE", "profession": "60",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = admin_client.post("/admin/dpi/user/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="nouvelle.ide")
    assert (user.email, user.email_verified_at, user.must_change_password) == ("ines@hopital.test", None, True)
    assert len(smtp.to("ines@hopital.test")) == 1
