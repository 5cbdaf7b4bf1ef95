"""The sandbox web PS opened through ProSanté Connect (``sandbox/dmp/psc_login.py``) refuses what it did not ask."""

from __future__ import annotations

from html import unescape

import httpx
import pytest

from sandbox.dmp.psc_login import WEBPS_PSC_CLIENT, PscClient
from sandbox.models import DmpCall

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 30  # a safety net, never an assertion


def test_a_psc_return_the_web_ps_did_not_ask_for_is_refused_and_recorded(dmp_server):
    dmp_server.psc = PscClient("http://127.0.0.1:9/unused", *WEBPS_PSC_CLIENT, dmp_server.psc_redirect_uri)
    answer = httpx.get(f"{dmp_server.psc_redirect_uri}?code=stolen&state=forged", timeout=TIMEOUT)
    assert answer.status_code == 403
    assert "Retour de ProSanté Connect inattendu" in unescape(answer.text)
    call = DmpCall.objects.get(transaction="TD0.10")
    assert (call.authentication_mode, call.outcome) == ("PSC", "wsse:InvalidSecurity")


def test_the_web_ps_without_psc_says_so(dmp_server):
    answer = httpx.get(f"{dmp_server.webps_psc_url}?ins=1&oid=2", timeout=TIMEOUT)
    assert answer.status_code == 404
    assert "pas relié à ProSanté Connect" in unescape(answer.text)
