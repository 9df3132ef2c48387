"""The integration's own tests, against teleconform's validating sandboxes.

`teleconform_hcw` / `teleconform_leah` serve a fresh sandbox per test and fail the test when
the integration broke a MUST client clause (SHOULD: a warning, or a failure with
--teleconform-strict). Run: pytest examples/client [--teleconform-profile hcw-athome-5.4.62]
"""

from __future__ import annotations

from datetime import timedelta
from types import ModuleType
from typing import Any

from teleconform.client import ValidatingSandbox

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def hcw_of(client: ModuleType, sandbox: ValidatingSandbox) -> Any:
    c = sandbox.credentials
    return client.Hcw(
        sandbox.base_url,
        c["TELECONFORM_HCW_EMAIL"],
        c["TELECONFORM_HCW_PASSWORD"],
        c["TELECONFORM_HCW_SSO_SECRET"],
    )


def test_scheduler_creates_an_invite(
    client: ModuleType, teleconform_hcw: ValidatingSandbox
) -> None:
    doctor = teleconform_hcw.credentials["TELECONFORM_HCW_DOCTOR_EMAIL"]
    with hcw_of(client, teleconform_hcw) as hcw:
        hcw.sign_in()
        invite = hcw.create_invite("patient@example.org", doctor, client.tomorrow())
    assert invite["id"]


def test_doctor_signs_in_by_sso(client: ModuleType, teleconform_hcw: ValidatingSandbox) -> None:
    with hcw_of(client, teleconform_hcw) as hcw:
        assert hcw.sign_doctor_in(teleconform_hcw.credentials["TELECONFORM_HCW_DOCTOR_EMAIL"])


def test_book_and_reschedule(client: ModuleType, teleconform_leah: ValidatingSandbox) -> None:
    c = teleconform_leah.credentials
    when = client.tomorrow()
    with client.Leah(teleconform_leah.base_url, c["TELECONFORM_LEAH_API_KEY"]) as leah:
        appointment = leah.book(
            c["TELECONFORM_LEAH_HCW_EMAIL"], "guest@example.org", "+33612345678", when
        )
        leah.reschedule(appointment, when + timedelta(hours=1))


def test_share_a_pdf(client: ModuleType, teleconform_leah: ValidatingSandbox) -> None:
    c = teleconform_leah.credentials
    with client.Leah(teleconform_leah.base_url, c["TELECONFORM_LEAH_API_KEY"]) as leah:
        leah.share(c["TELECONFORM_LEAH_HCW_EMAIL"], "report.pdf", PDF, "doctor@example.org")
