"""A corrected document sent again says "annule et remplace" in the mails the PFI writes (REM MSS/va1.13), and the
PFI reads the mail bodies the DPI sends."""

from __future__ import annotations

import base64

from dmp.mdm import build_mdm, patient_mss_address
from documents.cda import InstanceId
from documents.content import REPLACEMENT_NOTICE, REPLACEMENT_NOTICE_TITLE
from sandbox.pfi import read_mdm
from tests.dmp.test_mdm import INS, _field, _segments, _transmission

PARENT = InstanceId("1.2.250.1.999.1.2.7.0")
PS_BODY = "Veuillez trouver ci-joint le document « Lettre de liaison »."
PATIENT_BODY = "Un nouveau document de votre établissement de santé est disponible : « Lettre de liaison »."
MAILED = {"DESTMSSANTEPS": True, "DESTMSSANTEPAT": True}
NOTICE = f"{REPLACEMENT_NOTICE_TITLE} — {REPLACEMENT_NOTICE}"


def _mailed(trigger: str, **changes: object) -> str:
    values: dict = {
        "trigger": trigger,
        "parent_id": PARENT if trigger == "T10" else None,
        "metadata": MAILED,
        "mss_recipients": ("adam.hoda@test-ci-sis.mssante.fr",),
        "patient_address": patient_mss_address(INS.extension),
        "mail_body_ps": PS_BODY,
        "mail_body_patient": PATIENT_BODY,
    }
    return build_mdm(_transmission(**(values | changes)))


def _bodies(message: str) -> dict[str, str]:
    """CORPSMAIL_* decoded, as the PFI puts them in its mails."""
    bodies = {}
    for segment in _segments(message):
        if segment.name == "OBX" and _field(segment, "3.1").startswith("CORPSMAIL_"):
            assert [_field(segment, spec) for spec in ("2", "5.2", "5.4")] == ["ED", "text", "Base64"]
            bodies[_field(segment, "3.1")] = base64.b64decode(_field(segment, "5.5")).decode("utf-8")
    return bodies


def test_a_replacement_opens_both_mail_bodies_with_the_annule_et_remplace_notice() -> None:
    assert _bodies(_mailed("T10")) == {
        "CORPSMAIL_PS": f"{NOTICE}\n\n{PS_BODY}",
        "CORPSMAIL_PATIENT": f"{NOTICE}\n\n{PATIENT_BODY}",
    }


def test_a_first_sending_has_no_replacement_notice() -> None:
    assert _bodies(_mailed("T02")) == {"CORPSMAIL_PS": PS_BODY, "CORPSMAIL_PATIENT": PATIENT_BODY}


def test_a_replacement_mailed_without_a_body_still_carries_the_notice() -> None:
    bodies = _bodies(_mailed("T10", mail_body_ps="", mail_body_patient="", metadata={"DESTMSSANTEPS": True}))

    assert bodies == {"CORPSMAIL_PS": NOTICE}  # not to the patient, who is not written to


def test_a_replacement_for_the_dmp_only_has_no_mail_body() -> None:
    message = _mailed("T10", mail_body_ps="", mail_body_patient="", metadata={"DESTDMP": True}, mss_recipients=())

    assert _bodies(message) == {}


def test_the_pfi_accepts_the_replacement_and_reads_its_mail_bodies() -> None:
    mdm = read_mdm(_mailed("T10").encode("utf-8"))

    assert mdm.problems == []
    assert mdm.mail_bodies["CORPSMAIL_PS"].startswith(NOTICE)
    assert mdm.mail_bodies["CORPSMAIL_PATIENT"].startswith(NOTICE)


def test_the_pfi_refuses_a_mail_body_it_cannot_read() -> None:
    broken = _mailed("T02").replace(base64.b64encode(PS_BODY.encode()).decode(), "pas du base64 !")

    problems = read_mdm(broken.encode("utf-8")).problems

    assert [problem.text for problem in problems] == [
        "Corps du mail CORPSMAIL_PS illisible : texte UTF-8 en Base64 attendu dans OBX-5.5"
    ]
