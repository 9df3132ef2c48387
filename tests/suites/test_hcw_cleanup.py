"""Cleanup of a run killed mid-lifecycle: the open consultation is closed, the invite removed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from teleconform.runner import cleanup_from_ledger, sandbox_credentials
from teleconform.sandbox._server import ThreadedServer
from teleconform.sandbox.hcw import create_app


def test_a_ledger_left_mid_lifecycle_is_cleaned(tmp_path: Path) -> None:
    app = create_app()
    store = app.state.store
    with ThreadedServer(app) as server, httpx.Client(base_url=server.base_url) as http:
        creds = sandbox_credentials("hcw", app)
        login = http.post(
            "/api/v1/login-local",
            json={"email": creds["hcw.email"], "password": creds["hcw.password"]},
        )
        scheduler = {"x-access-token": login.json()["user"]["token"]}
        created = http.post(
            "/api/v1/invite",
            headers=scheduler,
            json={
                "emailAddress": "patient@example.org",
                "firstName": "Pat",
                "lastName": "Probe",
                "gender": "female",
                "isPatientInvite": True,
                "doctorEmail": creds["hcw.doctor_email"],
            },
        )
        invite = created.json()["invite"]
        patient = http.post("/api/v1/login-invite", json={"inviteToken": invite["inviteToken"]})
        requested = http.post(
            "/api/v1/consultation",
            json={"invitationToken": invite["inviteToken"]},
            headers={"Authorization": f"Bearer {patient.json()['user']['token']}"},
        )
        consultation = requested.json()["_id"]
        assert store.consultations[consultation].status == "pending"
        ledger = tmp_path / "ledger-hcw.jsonl"
        path = f"/api/v1/invite/{invite['id']}"
        ledger.write_text(
            "\n".join(
                json.dumps(line)
                for line in [
                    {"ledger": 1, "api": "hcw", "base_url": server.base_url, "run_id": "tc-test"},
                    {
                        "created": {
                            "kind": "invite",
                            "id": invite["id"],
                            "cleanup": ["DELETE", path],
                        }
                    },
                    {
                        "created": {
                            "kind": "consultation",
                            "id": consultation,
                            "cleanup": ["POST", path],
                        }
                    },
                ]
            )
            + "\n"
        )
        tried, failures = cleanup_from_ledger(ledger, creds)
    assert (tried, failures) == (2, [])
    assert store.consultations[consultation].status == "closed"
    assert invite["id"] not in store.invites
    assert '"cleaned"' in ledger.read_text()
