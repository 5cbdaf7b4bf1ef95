"""The login page speaks as a hospital does: an "identifiant", never a "pseudo"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_wrong_password_is_told_with_the_word_identifiant_not_pseudo(client):
    user = UserFactory()
    response = client.post(reverse("account_login"), {"login": user.username, "password": "pas-le-bon"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "L&#x27;identifiant ou le mot de passe est incorrect." in page
    assert "pseudo" not in page.lower()


def test_an_unknown_login_gets_the_same_words_as_a_wrong_password(client):
    response = client.post(reverse("account_login"), {"login": "inconnu", "password": "pas-le-bon"})
    page = response.content.decode()
    assert "L&#x27;identifiant ou le mot de passe est incorrect." in page
    assert "pseudo" not in page.lower()
