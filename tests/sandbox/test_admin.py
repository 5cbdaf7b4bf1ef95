"""The simulated PFI in the admin: a demo user makes it fail, and reads what it received and sent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from dpi.models import AuditEvent
from sandbox.models import PfiBehaviour, PfiMessage, PfiZam
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def received() -> PfiMessage:
    message = PfiMessage.objects.create(
        control_id="mdm-7",
        trigger="T02",
        document_id="1.2.250.1.999.1.2.7.1",
        ins="279035121518989",
        to_dmp=True,
        mss_recipients=["adam.hoda@test-ci-sis.mssante.fr"],
        flags={"DESTDMP": "Y"},
        ack_code="AA",
        raw="MSH|^~\\&|DPI|CHU|PFI|CHU|20260310||MDM^T02^MDM_T02|mdm-7|P|2.6\rEVN||20260310",
    )
    PfiZam.objects.create(
        message=message, event="Z01", status="N", control_id="zam-1", outcome="AA", raw="MSH|^~\\&|PFI|SANDBOX"
    )
    return message


def test_behaviour_list_opens_the_single_behaviour_form(admin_client):
    response = admin_client.get(reverse("admin:sandbox_pfibehaviour_changelist"))

    assert response.status_code == 302
    assert response.url == reverse("admin:sandbox_pfibehaviour_change", args=[1])
    assert PfiBehaviour.objects.get().mode == PfiBehaviour.Mode.NORMAL


def test_demo_user_makes_the_pfi_answer_ae_and_the_change_is_audited(admin_client):
    behaviour = PfiBehaviour.current()

    response = admin_client.post(
        reverse("admin:sandbox_pfibehaviour_change", args=[behaviour.pk]),
        {"mode": "ae", "slow_seconds": "15", "zam_delay_seconds": ""},
    )

    assert response.status_code == 302
    assert PfiBehaviour.current().mode == PfiBehaviour.Mode.AE
    event = AuditEvent.objects.get()
    assert event.before["mode"] == "normal"
    assert event.after["mode"] == "ae"


def test_received_message_page_shows_the_raw_message_and_its_zams(admin_client, received):
    response = admin_client.get(reverse("admin:sandbox_pfimessage_change", args=[received.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "<pre" in content
    assert "MDM^T02^MDM_T02|mdm-7" in content
    assert "zam-1" in content


def test_message_and_zam_lists_filter(admin_client, received):
    filters = {"ack_code": "AA", "to_dmp__exact": "1"}
    messages = admin_client.get(reverse("admin:sandbox_pfimessage_changelist"), filters)
    zams = admin_client.get(reverse("admin:sandbox_pfizam_changelist"), {"event": "Z01", "status": "N"})

    assert "mdm-7" in messages.content.decode()
    assert "zam-1" in zams.content.decode()


def test_journals_are_read_only(admin_client, received):
    response = admin_client.post(reverse("admin:sandbox_pfimessage_delete", args=[received.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert PfiMessage.objects.exists()


def test_pfi_mode_command_switches_the_behaviour(capsys):
    call_command("pfi_mode", "slow", "--slow-seconds", "3", "--zam-delay", "0.5")

    behaviour = PfiBehaviour.current()
    assert (behaviour.mode, behaviour.slow_seconds, behaviour.zam_delay_seconds) == ("slow", 3.0, 0.5)
    call_command("pfi_mode", "--zam-delay", "default")
    assert PfiBehaviour.current().zam_delay_seconds is None
    assert "slow" in capsys.readouterr().out
