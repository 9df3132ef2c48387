"""The teleconform_hcw / teleconform_leah fixtures in a host pytest session (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SIGN_IN = """
import httpx

def sign_in(sandbox, **headers):
    c = sandbox.credentials
    with httpx.Client(base_url=sandbox.base_url) as http:
        r = http.post("/api/v1/login-local", json={"email": c["TELECONFORM_HCW_EMAIL"],
                                                   "password": c["TELECONFORM_HCW_PASSWORD"]})
        token = r.json()["user"]["token"]
        hdrs = {k.replace("_", "-"): v.format(token=token) for k, v in headers.items()}
        return http.get("/api/v1/invite", headers=hdrs)
"""


def test_a_conformant_client_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        SIGN_IN
        + """
def test_ok(teleconform_hcw):
    assert teleconform_hcw.base_url.startswith("http://127.0.0.1:")
    r = sign_in(teleconform_hcw, x_access_token="{token}", Authorization="Bearer {token}")
    assert r.status_code == 200
"""
    )
    result = pytester.runpytest("--teleconform-strict")
    result.assert_outcomes(passed=1)


def test_a_must_clause_broken_fails_the_test_naming_clause_and_request(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        SIGN_IN
        + """
def test_bearer_only(teleconform_hcw):
    sign_in(teleconform_hcw, Authorization="Bearer {token}")
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*the client broke 1 hcw client clause(s):*",
            "*HCW-CLIENT-02 [[]MUST[]] no x-access-token header (only Authorization: Bearer)*",
            "*request: GET /api/v1/invite -> 200*",
        ]
    )


def test_a_should_clause_is_a_warning_or_with_strict_a_failure(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        SIGN_IN
        + """
def test_x_only(teleconform_hcw):
    sign_in(teleconform_hcw, x_access_token="{token}")
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*ClientClauseWarning*", "*HCW-CLIENT-03 [[]SHOULD[]]*"])
    result = pytester.runpytest("--teleconform-strict")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*HCW-CLIENT-03 [[]SHOULD[]]*"])


def test_each_test_gets_a_fresh_sandbox_and_judgement(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import httpx

def test_broken(teleconform_leah):
    httpx.get(teleconform_leah.base_url + "/api/offices")  # no LEAH-AUTH-TOKEN

def test_clean(teleconform_leah):
    key = teleconform_leah.credentials["TELECONFORM_LEAH_API_KEY"]
    r = httpx.get(teleconform_leah.base_url + "/api/offices",
                  headers={"LEAH-AUTH-TOKEN": key})
    assert r.status_code == 200
""")
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_broken*",
            "*LEAH-CLIENT-01 [[]MUST[]] no LEAH-AUTH-TOKEN header*",
        ]
    )


def test_the_profile_option_and_marker_reach_the_sandbox(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

@pytest.mark.teleconform_profile("no-such-profile")
def test_marked(teleconform_hcw):
    pass

def test_unmarked(teleconform_hcw):
    assert teleconform_hcw.profile is None
""")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*teleconform_hcw: *"])
    result = pytester.runpytest("--teleconform-profile", "no-such-profile", "-k", "unmarked")
    result.assert_outcomes(errors=1)


def test_advance_expires_tokens_and_08_is_judged(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        SIGN_IN
        + """
import httpx

def test_expiry(teleconform_hcw):
    c = teleconform_hcw.credentials
    with httpx.Client(base_url=teleconform_hcw.base_url) as http:
        def login():
            r = http.post("/api/v1/login-local", json={
                "email": c["TELECONFORM_HCW_EMAIL"], "password": c["TELECONFORM_HCW_PASSWORD"]})
            t = r.json()["user"]["token"]
            return {"x-access-token": t, "Authorization": "Bearer " + t}
        headers = login()
        teleconform_hcw.advance(16 * 60)
        assert http.get("/api/v1/invite", headers=headers).status_code == 401
        assert http.get("/api/v1/invite", headers=login()).status_code == 200
    assert teleconform_hcw.validator.verdicts()["HCW-CLIENT-08"] == "pass"
"""
    )
    result = pytester.runpytest("--teleconform-strict")
    result.assert_outcomes(passed=1)
