"""A message's page in the admin has its own "Rejouer" button (no need to go back to the list and its action)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from lxml import html

from dpi.hl7.models import Message
from dpi.models import AuditEvent
from tests.factories import UserFactory
from tests.hl7.test_hl7_replay import admin_client, operator, receive_rejected, rejected  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_message_page_replays_the_message_with_its_own_button(admin_client, rejected, adt_handler):  # noqa: F811
    page = html.fromstring(admin_client.get(reverse("admin:hl7_message_change", args=[rejected.pk])).content)
    [form] = page.xpath("//form[@data-testid='replay-form']")
    response = admin_client.post(form.get("action"), follow=True)
    assert "Message rejoué" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("admin:hl7_message_change", args=[rejected.pk])
    assert Message.objects.get(pk=rejected.pk).status == Message.Status.PROCESSED
    assert AuditEvent.objects.filter(action="hl7.replay").count() == 1


def test_no_replay_button_without_the_permission_and_the_url_refuses(client, rejected):  # noqa: F811
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_message"))
    client.force_login(user)
    page = client.get(reverse("admin:hl7_message_change", args=[rejected.pk])).content.decode()
    assert 'data-testid="replay-form"' not in page
    assert client.post(reverse("admin:hl7_message_replay", args=[rejected.pk])).status_code == 403
    assert Message.objects.get(pk=rejected.pk).replay_count == 0
