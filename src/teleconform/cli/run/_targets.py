"""`run`, step 2: where each selected API runs (sandbox, live URL, replay), as whom.

``plan_targets`` checks every input before anything is sent (exit 2 when one is bad);
``api_jobs`` makes one ``ApiJob`` per API, whose ``open`` starts its sandbox, probes its
live URL or serves its cassettes when the executor gets to it.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from teleconform._errors import ConfigError, UsageError
from teleconform.catalogue import Clause
from teleconform.cli.run._console import Printer
from teleconform.cli.run._select import APIS, Selection
from teleconform.report.baseline import load_baseline
from teleconform.report.model import Run
from teleconform.runner._executor import ApiJob, TargetUnusable
from teleconform.runner._needs import needs_from_env, safe_contacts
from teleconform.runner._settings import RunSettings
from teleconform.runner._targets import (
    SANDBOX_MODULES,
    SandboxTarget,
    check_url,
    parse_sandbox_profiles,
    parse_targets,
    probe,
)
from teleconform.sandbox._profiles import DEFAULT_PROFILE, Profile

TARGET_ENV = {"hcw": "TELECONFORM_HCW_TARGET", "leah": "TELECONFORM_LEAH_TARGET"}


def targets_from_env(env: Mapping[str, str], apis: list[str]) -> dict[str, str]:
    """Targets from TELECONFORM_HCW_TARGET / TELECONFORM_LEAH_TARGET (what `teleconform
    sandbox` prints); used only when no --target is given. An empty value counts as absent."""
    return {
        api: check_url(env[TARGET_ENV[api]], TARGET_ENV[api])
        for api in apis
        if env.get(TARGET_ENV[api], "").strip()
    }


@dataclass(slots=True)
class TargetPlan:
    """The checked inputs of a run: live URLs (the rest run on sandboxes), credentials from
    the environment, safe contacts, baseline waivers and sandbox profiles."""

    urls: dict[str, str]
    env_credentials: dict[str, dict[str, str]]
    safe_email: str
    safe_phone: str
    waivers: list[Any]
    profiles: dict[str, Profile | None]


def plan_targets(
    args: argparse.Namespace, selected: Selection, catalogue: Mapping[str, Clause]
) -> TargetPlan:
    """Every target input checked; UsageError (exit 2) with the first bad one."""
    try:
        urls = parse_targets(args.target, list(selected))
        if not args.target and not args.replay:
            urls = targets_from_env(os.environ, list(selected))
        env_creds = {api: needs_from_env(os.environ, api) for api in selected if api in urls}
        safe_email, safe_phone = safe_contacts(os.environ)
        waivers = load_baseline(args.baseline, dict(catalogue)) if args.baseline else []
        if args.webhook_events and not Path(args.webhook_events).is_file():
            raise ConfigError(f"--webhook-events {args.webhook_events}: no such file")
        if args.sandbox_fault:
            for api in selected:
                if api in urls:
                    continue
                bad = [
                    f
                    for f in args.sandbox_fault
                    if not _fault_in(api, f) and not _fault_elsewhere(f, api)
                ]
                if bad:
                    raise ConfigError(f"--sandbox-fault {bad[0]}: no such sandbox fault")
        sandbox_apis = [api for api in selected if api not in urls]
        if args.sandbox_profile and args.replay:
            raise ConfigError(
                "--replay replays the recorded answers; --sandbox-profile has no effect"
            )
        if args.sandbox_profile and not sandbox_apis:
            raise ConfigError("--sandbox-profile: every selected API has a --target")
        profiles = parse_sandbox_profiles(args.sandbox_profile, sandbox_apis)
    except ConfigError as exc:
        raise UsageError(f"teleconform run: {exc}") from exc
    return TargetPlan(urls, env_creds, safe_email, safe_phone, waivers, profiles)


def open_cassettes(
    args: argparse.Namespace, selected: Selection, seed: int, tool: Mapping[str, str]
) -> Any:
    """The record/replay session of ``--record``/``--replay`` (None without them)."""
    if not (args.replay or args.record):
        return None
    from teleconform.cassettes import open_session

    try:
        return open_session(args, apis=list(selected), seed=seed, tool=tool)
    except ConfigError as exc:
        raise UsageError(f"teleconform run: {exc}") from exc


def _fault_in(api: str, name: str) -> bool:
    return name in importlib.import_module(SANDBOX_MODULES[api]).FAULTS


def _fault_elsewhere(name: str, api: str) -> bool:
    return any(_fault_in(other, name) for other in APIS if other != api)


def _add_webhook_credentials(args: argparse.Namespace, credentials: dict[str, str]) -> None:
    """`--webhook-events` / `--webhook-receiver`: the LEAH-WH needs given on the command line."""
    if args.webhook_events:
        credentials["leah.webhook_events"] = str(Path(args.webhook_events).resolve())
    if args.webhook_receiver:
        credentials["leah.webhook_receiver"] = args.webhook_receiver


@dataclass(slots=True)
class _Api:
    """How one API of this run is opened and reported."""

    api: str
    args: argparse.Namespace
    plan: TargetPlan
    session: Any
    printer: Printer
    report_dir: Path

    @property
    def replaying(self) -> bool:
        return self.session is not None and bool(self.args.replay)

    @contextmanager
    def open(self, base: RunSettings) -> Iterator[RunSettings]:
        """This API's settings, its target ready; a sandbox stops on exit."""
        sandbox: SandboxTarget | None = None
        try:
            if self.replaying:
                settings = self._replay(base)
            elif self.api in self.plan.urls:
                settings = self._live(base)
            else:
                sandbox = SandboxTarget(
                    self.api,
                    faults=tuple(f for f in self.args.sandbox_fault if _fault_in(self.api, f)),
                    profile=self.plan.profiles.get(self.api),
                )
                settings = replace(
                    base,
                    base_url=sandbox.start(),
                    mode="sandbox",
                    credentials=dict(sandbox.credentials),
                    writes_allowed=True,
                    disruptive_allowed=self.args.allow_disruptive,
                    rate_limiter=None,
                )
            yield self._hooked(settings)
        finally:
            if sandbox is not None:
                sandbox.stop()

    def _replay(self, base: RunSettings) -> RunSettings:
        options = self.session.run_options(self.api)  # the recorded selection and permissions
        return replace(
            base,
            base_url=self.session.base_url(self.api),
            mode="replay",
            credentials=self.session.credentials(self.api),
            client=self.session.client(self.api),
            clock=self.session.clock(self.api),
            clauses=options["clauses"],
            writes_allowed=options["writes_allowed"],
            disruptive_allowed=options["disruptive_allowed"],
            rate_limiter=None,
        )

    def _live(self, base: RunSettings) -> RunSettings:
        url = self.plan.urls[self.api]
        unreachable = probe(url, self.args.timeout, base.rate_limiter)
        if unreachable:
            raise TargetUnusable(f"teleconform: {self.api} target {url}: {unreachable}")
        return replace(
            base,
            base_url=url,
            mode="live",
            credentials=dict(self.plan.env_credentials.get(self.api, {})),
            writes_allowed=self.args.allow_writes,
            disruptive_allowed=self.args.allow_disruptive,
            ledger_path=self.report_dir / f"ledger-{self.api}.jsonl",
        )

    def _hooked(self, settings: RunSettings) -> RunSettings:
        """Webhook needs, the run state, the recorder; then the line saying where it runs."""
        credentials = dict(settings.credentials)
        _add_webhook_credentials(self.args, credentials)
        state: dict[str, Any] = {
            "safe_email": self.plan.safe_email,
            "safe_phone": self.plan.safe_phone,
        }
        on_exchange: tuple[Any, ...] = ()
        if self.session is not None:  # record/replay
            if self.args.record:
                on_exchange = (self.session.recorder(self.api, settings.base_url, credentials),)
            state.update(self.session.state(self.api))
        self.printer.line(f"{self.api}: {settings.mode} {settings.base_url}")
        return replace(settings, credentials=credentials, state=state, on_exchange=on_exchange)

    def report(self, entry: Run) -> Run:
        """The API's report entry: the sandbox profile; the replay plan or the recording."""
        if not self.replaying and self.api not in self.plan.urls:
            profile = self.plan.profiles.get(self.api)
            entry["target"]["profile"] = profile.name if profile is not None else DEFAULT_PROFILE
        if self.replaying:
            entry["clauses"] = self.session.reported(self.api, entry["clauses"])
        elif self.session is not None:
            self.session.keep_outcome(
                self.api,
                entry["clauses"],
                writes_allowed=self.api not in self.plan.urls or bool(self.args.allow_writes),
                disruptive_allowed=bool(self.args.allow_disruptive),
            )
        return entry


def api_jobs(
    args: argparse.Namespace,
    selected: Selection,
    plan: TargetPlan,
    session: Any,
    printer: Printer,
    report_dir: Path,
) -> list[ApiJob]:
    """One job per selected API, in selection order."""
    jobs = []
    for api, ids in selected.items():
        one = _Api(api, args, plan, session, printer, report_dir)
        jobs.append(ApiJob(api, ids, one.open, one.report))
    return jobs
