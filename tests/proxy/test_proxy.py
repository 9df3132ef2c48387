"""The proxy over real HTTP: a sandbox on loopback behind it, a real httpx client in front."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from teleconform.proxy import HOP_BY_HOP, detect_api
from teleconform.proxy._forward import hop_by_hop

from .conftest import Setup, proxied

PNG_HEADER = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
)
UPLOAD_SIZE = 15_000_000


def _verdicts(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["verdict"] for run in report["runs"] for c in run["clauses"]}


def _clause(report: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for run in report["runs"] for c in run["clauses"] if c["id"] == cid)


def _leah_key(setup: Setup) -> dict[str, str]:
    return {"LEAH-AUTH-TOKEN": setup.credentials["leah.api_key"]}


def _worker_iri(client: httpx.Client, setup: Setup) -> str:
    email = setup.credentials["leah.hcw_email"]
    body = client.get(
        "/api/healthcare_workers", params={"email": email}, headers=_leah_key(setup)
    ).json()
    members = body.get("hydra:member") or body.get("member")
    return str(members[0]["@id"])


def test_a_15mb_multipart_upload_arrives_byte_for_byte() -> None:
    with (
        proxied("leah") as setup,
        httpx.Client(base_url=setup.proxy.base_url, timeout=60) as client,
    ):
        transfer = client.post(
            "/api/transfers",
            headers=_leah_key(setup),
            json={"healthcareWorker": _worker_iri(client, setup)},
        )
        assert transfer.status_code in (200, 201), transfer.text
        content = PNG_HEADER + b"\0" * (UPLOAD_SIZE - len(PNG_HEADER))
        request = client.build_request(
            "POST",
            f"/api/transfers/{transfer.json()['id']}/files",
            headers=_leah_key(setup),
            files=[("file[]", ("scan.png", content, "image/png"))],
        )
        sent = request.read()
        response = client.send(request)
        assert response.status_code == 200, response.text
        client_report, server_report = setup.proxy.stop()
    upload = setup.tap.seen[-1]
    assert upload.method == "POST" and upload.path.endswith("/files")
    assert len(sent) > UPLOAD_SIZE and bytes(upload.body) == sent
    # The answer the client got is the one the app sent, byte for byte and field for field.
    assert response.content == bytes(upload.response_body)
    got = [(k.lower(), v) for k, v in response.headers.multi_items()]
    emitted = [(k.lower(), v) for k, v in upload.response_headers]
    assert [h for h in got if h[0] not in ("date", "server")] == emitted
    assert sum(1 for k, _ in got if k == "date") == 1
    # The request fields are the client's, but for Host (the target) and hop-by-hop ones.
    upstream_host = setup.upstream.split("://", 1)[1]
    client_fields = [
        (k.lower(), v)
        for k, v in request.headers.multi_items()
        if k.lower() not in HOP_BY_HOP | {"host"}
    ]
    assert [(k, v) for k, v in upload.headers if k != "host"] == client_fields
    assert dict(upload.headers)["host"] == upstream_host
    assert client_report["runs"][0]["target"]["mode"] == "client"
    assert server_report["runs"][0]["target"]["mode"] == "live"
    assert _verdicts(client_report)["LEAH-CLIENT-05"] == "pass"
    assert _verdicts(server_report)["LEAH-GEN-01"] == "pass"


def _sso_token(setup: Setup) -> str:
    claims = {
        "email": setup.credentials["hcw.doctor_email"],
        "timestamp": int(time.time()),
        "jti": "proxy-test-1",
    }
    return jwt.encode(claims, setup.credentials["hcw.sso_secret"], algorithm="HS256")


def test_a_redirect_is_passed_to_the_client_unfollowed() -> None:
    with (
        proxied("hcw") as setup,
        httpx.Client(base_url=setup.proxy.base_url, follow_redirects=False) as client,
    ):
        response = client.get("/api/v1/external-auth-callback", params={"token": _sso_token(setup)})
        setup.proxy.stop()
    assert response.status_code == 302
    (seen,) = setup.tap.seen  # one upstream request: the proxy did not follow the Location
    assert response.headers["location"] == dict(seen.response_headers)["location"]
    assert response.headers["location"].startswith(setup.upstream)


@pytest.mark.parametrize(("faults", "verdict"), [((), "pass"), (("html-error-pages",), "fail")])
def test_a_server_fault_is_a_server_clause_fail(faults: tuple[str, ...], verdict: str) -> None:
    with proxied("hcw", faults) as setup, httpx.Client(base_url=setup.proxy.base_url) as client:
        refused = client.get("/api/v1/invite")  # no token: an error answer
        _, server = setup.proxy.stop()
    assert refused.status_code == 401
    gen03 = _clause(server, "HCW-GEN-03")
    assert gen03["verdict"] == verdict, gen03
    if verdict == "fail":
        assert "text/html" in gen03["reason"]
        assert gen03["evidence"][0]["response"]["status"] == 401


@pytest.mark.parametrize(
    ("fault", "clause"),
    [
        (None, None),
        ("collection-type-paged", "LEAH-HYDRA-01"),
        ("member-id-not-uuid", "LEAH-HYDRA-02"),
        ("total-items-string", "LEAH-HYDRA-03"),
    ],
)
def test_hydra_collections_are_judged_on_each_list_response(
    fault: str | None, clause: str | None
) -> None:
    with (
        proxied("leah", (fault,) if fault else ()) as setup,
        httpx.Client(base_url=setup.proxy.base_url) as client,
    ):
        response = client.get("/api/healthcare_workers", headers=_leah_key(setup))
        assert response.status_code == 200
        _, server = setup.proxy.stop()
    verdicts = _verdicts(server)
    hydra = {c: v for c, v in verdicts.items() if c.startswith("LEAH-HYDRA")}
    expected = {c: "fail" if c == clause else "pass" for c in hydra}
    assert hydra == expected, [(_clause(server, c)["reason"]) for c in hydra]
    assert set(hydra) == {"LEAH-HYDRA-01", "LEAH-HYDRA-02", "LEAH-HYDRA-03"}


def test_a_client_violation_is_in_the_client_report() -> None:
    with proxied("leah") as setup, httpx.Client(base_url=setup.proxy.base_url) as client:
        assert client.get("/api/offices", headers=_leah_key(setup)).status_code == 200
        assert client.get("/api/offices").status_code == 401  # no LEAH-AUTH-TOKEN
        client_report, server_report = setup.proxy.stop()
    entry = _clause(client_report, "LEAH-CLIENT-01")
    assert entry["verdict"] == "fail", entry
    assert entry["evidence"] and entry["evidence"][0]["request"]["method"] == "GET"
    # never a credential in a report
    assert setup.credentials["leah.api_key"] not in str(client_report) + str(server_report)
    # clauses the client never exercised are skip, with the reason
    assert _clause(client_report, "LEAH-CLIENT-05")["verdict"] == "skip"


def test_the_api_is_detected_from_the_path_or_given() -> None:
    assert detect_api("/api/v1/invite") == "hcw"
    assert detect_api("/api/offices") == "leah"
    assert detect_api("/health") is None
    for given, apis in ((None, []), ("leah", ["leah"])):
        with (
            proxied("leah", api=given) as setup,
            httpx.Client(base_url=setup.proxy.base_url) as client,
        ):
            assert client.get("/", headers=_leah_key(setup)).status_code == 404
            client_report, server = setup.proxy.stop()
        assert [r["api"] for r in server["runs"]] == apis
        assert [r["api"] for r in client_report["runs"]] == apis


def test_hop_by_hop_fields_include_those_connection_names() -> None:
    assert hop_by_hop([("Connection", "close, X-Private"), ("X-Private", "1")]) == (
        set(HOP_BY_HOP) | {"close", "x-private"}
    )


def test_a_target_under_a_path_prefix_is_judged_below_it() -> None:
    from teleconform.proxy._session import _below_prefix

    assert _below_prefix("https://h/hcw/api/v1/invite?x=1", "/hcw") == "https://h/api/v1/invite?x=1"
    assert _below_prefix("https://h/api/v1/invite", "") == "https://h/api/v1/invite"
    assert _below_prefix("https://h/hcwx/api", "/hcw") == "https://h/hcwx/api"
