"""The worked example (examples/client): the good integration passes its own tests against
the validating sandboxes, the broken one fails exactly the client clauses it breaks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from teleconform.client._sandbox import available_profiles

pytest_plugins = ["pytester"]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "client"
CLAUSE_RE = re.compile(r"\b((?:HCW|LEAH)-CLIENT-\d\d) \[(MUST|SHOULD)\]")
# What each bug of broken_integration.py breaks, by the test that shows it.
BROKEN = {
    "test_scheduler_creates_an_invite": {"HCW-CLIENT-03"},  # x-access-token only (SHOULD)
    "test_doctor_signs_in_by_sso": {"HCW-CLIENT-06"},  # timestamp in milliseconds
    "test_book_and_reschedule": {"LEAH-CLIENT-03"},  # PATCH as application/json
    "test_share_a_pdf": {"LEAH-CLIENT-05"},  # a .gif upload
}
REAL_RELEASE = "hcw-athome-5.4.62"


def run_example(pytester: pytest.Pytester, client: str, *args: str) -> pytest.RunResult:
    for path in EXAMPLE.glob("*.py"):
        shutil.copy(path, pytester.path / path.name)
    pytester.syspathinsert(pytester.path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXAMPLE_CLIENT", client)
        return pytester.runpytest("-p", "no:cacheprovider", "-rA", *args)


def broken_clauses(result: pytest.RunResult) -> dict[str, set[str]]:
    """Test name -> client clauses its failure or warning names."""
    found: dict[str, set[str]] = {}
    current = None
    for line in result.outlines:
        test = re.search(
            r"(?:^_+ (?:ERROR at teardown of )?|test_integration\.py::)(test_\w+)", line
        )
        if test:
            current = test.group(1)
        for clause, _level in CLAUSE_RE.findall(line):
            if current is not None:
                found.setdefault(current, set()).add(clause)
    return found


def test_the_good_integration_passes_strictly(pytester: pytest.Pytester) -> None:
    result = run_example(pytester, "integration", "--teleconform-strict")
    result.assert_outcomes(passed=4)
    assert not CLAUSE_RE.search(result.stdout.str())


def test_the_broken_integration_fails_exactly_the_clauses_it_breaks(
    pytester: pytest.Pytester,
) -> None:
    result = run_example(pytester, "broken_integration")
    # The MUST breaks fail their tests at teardown; x-access-token alone is a SHOULD
    # (a warning) while the as-documented sandbox still reads that header.
    result.assert_outcomes(passed=1, failed=3, errors=3, warnings=1)
    assert broken_clauses(result) == BROKEN


def test_the_broken_integration_under_strict_fails_the_should_clause_too(
    pytester: pytest.Pytester,
) -> None:
    result = run_example(pytester, "broken_integration", "--teleconform-strict", "-k", "invite")
    result.assert_outcomes(passed=1, errors=1)
    assert broken_clauses(result) == {"test_scheduler_creates_an_invite": {"HCW-CLIENT-03"}}


HCW_PROFILES = available_profiles("hcw")
LEAH_PROFILES = available_profiles("leah")

if HCW_PROFILES:  # the profiles of the sandboxes (hcw-profiles); defined once they exist

    @pytest.mark.parametrize("profile", HCW_PROFILES)
    def test_the_good_integration_passes_on_every_hcw_profile(
        pytester: pytest.Pytester, profile: str
    ) -> None:
        result = run_example(
            pytester,
            "integration",
            "--teleconform-strict",
            "--teleconform-profile",
            profile,
            "-k",
            "invite or sso",
        )
        result.assert_outcomes(passed=2)

    def test_x_access_token_alone_fails_on_the_real_release_and_03_says_why(
        pytester: pytest.Pytester,
    ) -> None:
        assert REAL_RELEASE in HCW_PROFILES
        result = run_example(
            pytester, "broken_integration", "--teleconform-profile", REAL_RELEASE, "-k", "invite"
        )
        result.assert_outcomes(failed=1, warnings=1)
        assert broken_clauses(result) == {"test_scheduler_creates_an_invite": {"HCW-CLIENT-03"}}
        assert "401" in result.stdout.str()


if LEAH_PROFILES:  # the profiles of the Leah sandbox (leah-profiles)

    @pytest.mark.parametrize("profile", LEAH_PROFILES)
    def test_the_good_integration_passes_on_every_leah_profile(
        pytester: pytest.Pytester, profile: str
    ) -> None:
        result = run_example(
            pytester,
            "integration",
            "--teleconform-strict",
            "--teleconform-profile",
            profile,
            "-k",
            "book or share",
        )
        result.assert_outcomes(passed=2)
