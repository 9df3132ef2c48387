"""`cassettes audit` against a hand-made inventory of the real HCW@Home traffic's secrets."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_plus

import jwt
import pytest
import yaml

from teleconform.cassettes.audit import Finding, audit_cassette, main
from teleconform.redact import Redactor
from teleconform.traffic.har import har_to_cassette, load_har

FIXTURES = Path(__file__).parent / "fixtures" / "audit"
INVENTORY = yaml.safe_load((FIXTURES / "hcw-traffic-inventory.yaml").read_text())
REDUCED_HAR = FIXTURES / "hcw-athome-reduced.har"
SHARED_HAR = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "hcw-athome-traffic"
    / "hcw-athome-5.4.62.har"
)
ALL_VALUES = [(kind, v["value"]) for kind, vals in INVENTORY["values"].items() for v in vals]


def _string_leaves(cassette: dict[str, Any]) -> set[str]:
    """Every string a reader sees: header values, query values, JSON leaves, raw bodies."""
    leaves: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            leaves.add(node)
            stripped = node.strip()
            if stripped[:1] in "[{":
                try:
                    walk(json.loads(stripped))
                except ValueError:
                    pass
            if "?" in node or "=" in node:
                for pair in node.split("?", 1)[-1].split("&"):
                    leaves.add(unquote_plus(pair.partition("=")[2]))

    walk(cassette)
    return leaves


def _present(cassette: dict[str, Any]) -> list[tuple[str, str]]:
    """Inventory values occurring in a cassette (names as whole strings, others anywhere)."""
    text = yaml.safe_dump(cassette) + json.dumps(cassette)
    leaves = _string_leaves(cassette)
    return [(k, v) for k, v in ALL_VALUES if (v in leaves if k == "name" else v in text)]


def _found_values(findings: list[Finding]) -> set[str]:
    values = set()
    for f in findings:
        values.add(f.value)
        values.add(unquote_plus(f.value))
    return values


@pytest.fixture(scope="module")
def reduced() -> dict[str, Any]:
    return har_to_cassette(load_har(REDUCED_HAR))


def _check_inventory(cassette: dict[str, Any], minimum: int) -> None:
    present = _present(cassette)
    assert len(present) >= minimum
    findings = audit_cassette(cassette)
    found = _found_values(findings)
    missed = [(k, v[:12]) for k, v in present if v not in found]
    assert missed == []
    redacted = {
        "version": 1,
        "interactions": [Redactor().redact_exchange(i) for i in cassette["interactions"]],
    }
    assert audit_cassette(redacted) == []
    assert _present(redacted) == []


def test_inventory_is_well_formed() -> None:
    counts = {kind: len(vals) for kind, vals in INVENTORY["values"].items()}
    assert counts["jwt"] >= 40 and counts["email"] >= 15 and counts["password"] >= 4
    assert len({v for _, v in ALL_VALUES}) == len(ALL_VALUES)
    for _, value in ALL_VALUES:
        assert isinstance(value, str) and value


def test_reduced_copy_before_and_after_redaction(reduced: dict[str, Any]) -> None:
    # The reduced copy holds a large part of the inventory (every kind).
    _check_inventory(reduced, minimum=60)
    kinds = {k for k, _ in _present(reduced)}
    assert kinds == set(INVENTORY["values"])


@pytest.mark.skipif(not SHARED_HAR.is_file(), reason="../shared/data/hcw-athome-traffic is absent")
def test_full_capture_before_and_after_redaction() -> None:
    cassette = har_to_cassette(load_har(SHARED_HAR))
    _check_inventory(cassette, minimum=len(ALL_VALUES))


def _planted_cassette() -> dict[str, Any]:
    sso = jwt.encode(
        {"email": "ivy@example.org", "timestamp": 1795316035}, "s" * 32, algorithm="HS256"
    )
    multipart = (
        b'--B0\r\nContent-Disposition: form-data; name="file"; '
        b'filename="ivy-lab-results.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        b"%PDF-1.4 lab results\r\n--B0--\r\n"
    )
    return {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "GET",
                    "uri": "http://h/api/v1/user?where="
                    + quote(json.dumps({"email": "ivy@example.org"}), safe=""),
                    "headers": {},
                    "body": None,
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"X-Debug": [base64.b64encode(b"user=ivy@example.org").decode()]},
                    "body": {"string": '{"contact": "ivy\\u0040example.org", "ok": true}'},
                },
            },
            {
                "request": {
                    "method": "GET",
                    "uri": "http://h/api/v1/external-auth-callback?token=" + sso,
                    "headers": {},
                    "body": None,
                },
                "response": {
                    "status": {"code": 302, "message": "Found"},
                    "headers": {"Location": ["http://h/app?tk=" + sso]},
                    "body": {"string": ""},
                },
            },
            {
                "request": {
                    "method": "POST",
                    "uri": "http://h/api/transfers",
                    "headers": {
                        "Content-Type": ["multipart/form-data; boundary=B0"],
                        "LEAH-AUTH-TOKEN": ["leah-key-0123456789"],
                    },
                    "body": multipart.decode(),
                },
                "response": {
                    "status": {"code": 201, "message": "Created"},
                    "headers": {"Content-Type": ["application/json"]},
                    "body": {
                        "string": json.dumps(
                            {"sharedSecret": "test-shared-secret", "phone": "+41 79 000 00 42"}
                        )
                    },
                },
            },
        ],
        "teleconform": {
            "credentials": {"hcw.password": "Plain-Pass-123"},
            "notes": [{"echo": "sent to ivy@example.org"}],
        },
    }


def test_planted_values_in_encoded_forms() -> None:
    findings = audit_cassette(_planted_cassette())
    where = {(f.location, f.kind) for f in findings}
    assert ("0:request.uri?where/email", "email") in where  # URL-encoded JSON in a query
    assert ("0:response.headers.X-Debug", "email") in where  # base64
    assert ("0:response.body/contact", "email") in where  # JSON-escaped \u0040
    assert ("1:request.uri?token", "jwt") in where
    assert ("1:response.headers.Location?tk", "jwt") in where
    assert ("2:request.body#part1.filename", "file") in where  # multipart file name
    assert ("2:request.body#part1.content", "file") in where
    assert ("2:request.headers.LEAH-AUTH-TOKEN", "credential") in where
    assert ("2:response.body/sharedSecret", "credential") in where  # an SSO secret
    assert ("2:response.body/phone", "phone") in where
    assert ("meta:/teleconform/credentials/hcw.password", "password") in where
    assert ("meta:/teleconform/notes/0/echo", "email") in where
    r = Redactor()
    redacted = {
        "version": 1,
        "interactions": [r.redact_exchange(i) for i in _planted_cassette()["interactions"]],
    }
    # A body too large to keep, as the recorder stores it: digest and head are not findings.
    redacted["interactions"][2]["response"]["body"]["string"] = (
        "[teleconform: body of 90000 bytes not kept, sha256=" + "ab" * 32 + ', head="{}"]'
    )
    assert audit_cassette(redacted) == []
    text = yaml.safe_dump(redacted)
    for secret in ("ivy", "test-shared-secret", "leah-key", "000 00 42", "lab-results"):
        assert secret not in text
    assert "aXZ5" not in text  # base64 of "ivy" at any offset of the header blob


def _write(path: Path, cassette: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cassette, sort_keys=False))
    return path


def test_cli_output_format_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reduced: dict[str, Any]
) -> None:
    dirty = _write(
        tmp_path / "dirty" / "hcw.yaml", {"version": 1, "interactions": reduced["interactions"][:2]}
    )
    assert main([str(dirty.parent)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out, "findings expected"
    for line in out:
        file_loc, kind, excerpt = line.split("\t")
        assert file_loc.startswith(f"{dirty}:") and kind and "[masked " in excerpt
        assert "Admin-Passw0rd" not in line and "eyJ" not in line and "@example.org" not in line
    expected = '0:request.body/password\tcredential\t"password": [masked credential, 14 chars]'
    assert f"{dirty}:{expected}" in out
    clean = _write(
        tmp_path / "clean" / "hcw.yaml",
        {
            "version": 1,
            "interactions": [Redactor().redact_exchange(i) for i in reduced["interactions"][:2]],
        },
    )
    assert main([str(clean.parent)]) == 0
    assert capsys.readouterr().out == ""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.yaml").write_text("interactions: [unclosed\n")
    assert main([str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main([str(tmp_path / "missing")]) == 2
    assert main([]) == 2


def test_runs_as_a_module(tmp_path: Path, reduced: dict[str, Any]) -> None:
    dirty = _write(
        tmp_path / "c" / "x.yaml", {"version": 1, "interactions": reduced["interactions"][:1]}
    )
    proc = subprocess.run(
        [sys.executable, "-m", "teleconform.cassettes.audit", str(dirty.parent)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "0:request.body/password\tcredential" in proc.stdout
    assert "Admin-Passw0rd" not in proc.stdout + proc.stderr


# -- the raw text of every file ------------------------------------------------------------------
_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqYW5lIiwiaWF0IjoxNzAwMDAwMDAwfQ."
    "c2lnbmF0dXJlLW9mLXRoZS1yZWFsLXRva2VuLTEyMzQ1Njc4"
)


def test_values_outside_parsed_values_are_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JWT, an e-mail address and a phone number in a YAML comment line: parsing drops the
    comment, the raw-text pass does not. Each is reported once, by line, masked."""
    clean = {
        "version": 1,
        "interactions": [
            Redactor().redact_exchange(i)
            for i in har_to_cassette(load_har(REDUCED_HAR))["interactions"][:1]
        ],
    }
    text = yaml.safe_dump(clean, sort_keys=False)
    path = tmp_path / "c" / "hcw.yaml"
    path.parent.mkdir()
    path.write_text(
        f"# recorded for jane.roe@clinic-example.ch, +41 79 555 12 34\n# session {_JWT}\n{text}"
    )
    assert main([str(path.parent)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert sorted((line.split("\t")[0], line.split("\t")[1]) for line in out) == [
        (f"{path}:line 1", "email"),
        (f"{path}:line 1", "phone"),
        (f"{path}:line 2", "jwt"),
    ]
    joined = "\n".join(out)
    assert "jane.roe" not in joined and "555 12 34" not in joined and "eyJ" not in joined
    # a value in a parsed value as well as in the text is reported once, at its parsed place
    raw = har_to_cassette(load_har(REDUCED_HAR))["interactions"][:1]
    leaky = {"version": 1, "interactions": raw}
    path.write_text(yaml.safe_dump(leaky, sort_keys=False))
    assert main([str(path)]) == 1
    assert not [line for line in capsys.readouterr().out.splitlines() if ":line " in line]


def test_other_services_credentials_are_found_in_the_raw_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What detect-secrets found in a spike and our API-specific detectors did not."""
    path = tmp_path / "x.yaml"
    path.write_text(
        "version: 1\ninteractions:\n- request: {method: GET, uri: 'http://h/x', headers: {},\n"
        "    body: 'keys AKIAIOSFODNN7EXAMPLE ghp_1234567890abcdefghijklmnopqrstuvwxyzAB'}\n"
        "  response: {status: {code: 200, message: OK}, headers: {}, body: {string: ''}}\n"
    )
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("\tcredential\t") == 2 and "AKIA" not in out and "ghp_" not in out


def test_empty_and_non_cassette_files_in_a_directory_are_passed_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "config.yaml").write_text("just: settings\n")
    assert main([str(tmp_path)]) == 0
    assert "audited 0 cassette(s)" in capsys.readouterr().err


def test_audit_help_is_on_stdout_and_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("usage: teleconform cassettes audit")
