"""HTTPS to the DMP: mutual TLS against the test PKI, and every way of not getting an answer is
transient, quickly (docs/dmp-protocol.md §1, §4)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from dmp.clients import transport
from dmp.clients.errors import DmpConfigurationError, DmpProtocolError, DmpUnavailable
from tests.dmp.clients.fakes import Answer, config_for, free_port, server_context, start_fake_dmp

SOAP = "application/soap+xml; charset=UTF-8"


def post(config, url):
    return transport.post(config, url, b"<x/>", SOAP)


def test_the_structure_certificate_authenticates_the_client(fake_dmp, config):
    fake_dmp.answer(Answer(body=b"<ok/>"))

    answer = post(config, fake_dmp.url)

    assert (answer.status, answer.body) == (200, b"<ok/>")
    assert "000897406 DPI" in fake_dmp.received[0].client_subject


def test_one_pooled_client_per_configuration(pki):
    config = config_for(pki)

    assert transport.client_for(config) is transport.client_for(config)
    assert transport.client_for(config) is not transport.client_for(dataclasses.replace(config, timeout_seconds=1))


def test_a_dmp_that_never_answers_is_unavailable_after_the_read_timeout(fake_dmp, pki):
    config = config_for(pki, fake_dmp.url, timeout_seconds=0.3)
    fake_dmp.answer(Answer(body=b"<late/>", delay=10))
    started = time.monotonic()

    with pytest.raises(DmpUnavailable) as raised:
        post(config, fake_dmp.url)

    assert raised.value.code == "timeout"
    assert not raised.value.permanent
    assert time.monotonic() - started < 3


def test_a_refused_connection_is_unavailable(pki):
    url = f"https://127.0.0.1:{free_port()}/services"

    with pytest.raises(DmpUnavailable) as raised:
        post(config_for(pki, url), url)

    assert raised.value.code == "connection"
    assert str(raised.value) == "Le DMP ne répond pas pour le moment. Réessayez dans quelques minutes."


def test_a_server_certificate_from_another_authority_is_refused(pki):
    rogue, stop = start_fake_dmp(server_context(pki, "rogue"))
    try:
        with pytest.raises(DmpUnavailable) as raised:
            post(config_for(pki, rogue.url), rogue.url)
    finally:
        stop()

    assert raised.value.code == "tls"
    assert rogue.received == []


def test_a_client_certificate_the_dmp_does_not_trust_gets_no_answer(fake_dmp, pki):
    config = config_for(pki, fake_dmp.url, client_cert=pki.path("rogue.crt"), client_key=pki.path("rogue.key"))
    fake_dmp.answer(Answer(body=b"<ok/>"))

    with pytest.raises(DmpUnavailable):
        post(config, fake_dmp.url)

    assert fake_dmp.received == []


def test_missing_client_certificate_file_is_a_configuration_error(pki, tmp_path):
    config = config_for(pki, client_cert=tmp_path / "absent.crt")

    with pytest.raises(DmpConfigurationError):
        post(config, config.patients_url)


@pytest.mark.parametrize("declare_length", [True, False])
def test_an_answer_over_the_size_limit_is_refused(fake_dmp, pki, declare_length):
    config = config_for(pki, fake_dmp.url, max_response_bytes=1000)
    fake_dmp.answer(Answer(body=b"<x>" + b"a" * 5000 + b"</x>", declare_length=declare_length))

    with pytest.raises(DmpProtocolError) as raised:
        post(config, fake_dmp.url)

    assert "1000" in raised.value.detail
