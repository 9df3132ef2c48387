"""Preflights: the suites' @preflight functions, run before any check of an API."""

from __future__ import annotations

from teleconform.runner._http import TransportError
from teleconform.runner._loading import marked_functions
from teleconform.suite import Context, CredentialsRefused, TargetUnreachable


class PreflightFailed(Exception):
    """The target could not be reached or refused the credentials before any clause ran."""


def run_preflights(ctx: Context) -> None:
    """Run the API's preflights; PreflightFailed (exit 3) when the target refuses the run."""
    for pre in marked_functions(ctx.api, "__teleconform_preflight__"):
        try:
            pre(ctx)
        except (CredentialsRefused, TargetUnreachable, TransportError) as exc:
            raise PreflightFailed(str(exc)) from exc


def with_hint(exc: PreflightFailed) -> str:
    """The preflight's message, plus what to check when it does not say."""
    text = str(exc)
    if "check " in text:
        return text
    if isinstance(exc.__cause__, TargetUnreachable):
        return f"{text}; check the base URL (--target)"
    if isinstance(exc.__cause__, CredentialsRefused):
        return f"{text}; check the credentials"
    return f"{text}; check the target URL and that it answers"
