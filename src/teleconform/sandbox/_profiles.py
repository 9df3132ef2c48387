"""Behaviour profiles shared by the sandboxes.

A *profile* is a whole server's behaviour: a set of *readings* (how the sandbox answers where
the vendor's document leaves room, e.g. ``refused_delete_status: 400``) plus, for the
observed behaviour of a real release or a profile written by ``teleconform drift``, the named
faults that reproduce its deviations. Conformant profiles carry no faults: the whole suite
must pass on each of them.

Each sandbox declares its reading vocabulary (``Reading``: name, allowed values, default, the
document sentence that allows each value) and its built-in profiles. A profile file (YAML or
JSON) names a base profile and overrides readings and faults::

    api: hcw
    name: staging-2026-12
    base: hcw-athome-5.4.62        # optional, default "as-documented"
    readings: {refused_delete_status: 403}
    faults: [sso-replay-accepted]
    evidence: {sso-replay-accepted: "HCW-SSO-08 failed: ..."}   # optional, kept for people
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teleconform.sandbox._faults import name_table

DEFAULT_PROFILE = "as-documented"


@dataclass(frozen=True, slots=True)
class Reading:
    """One place a document leaves room: its allowed values and why each is allowed."""

    name: str
    default: Any
    allowed: tuple[Any, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Profile:
    """A named server behaviour: readings (conformant choices) and faults (deviations)."""

    name: str
    api: str
    description: str
    readings: Mapping[str, Any] = field(default_factory=dict)
    faults: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()  # the document sentences (or reference facts) behind it
    conformant: bool = True
    evidence: Mapping[str, str] = field(default_factory=dict)

    def reading(self, name: str) -> Any:
        return self.readings[name]


def profile_table(*profiles: Profile) -> dict[str, Profile]:
    """Index profiles by name, refusing duplicates."""
    return name_table("profile", profiles)


def complete(
    profile: Profile, vocabulary: Mapping[str, Reading], known_faults: Iterable[str]
) -> Profile:
    """The profile with every reading filled in (defaults), checked against the vocabulary."""
    readings = {name: reading.default for name, reading in vocabulary.items()}
    for name, value in profile.readings.items():
        if name not in vocabulary:
            raise ValueError(
                f"profile {profile.name}: unknown reading {name!r}; "
                f"known: {', '.join(sorted(vocabulary))}"
            )
        if value not in vocabulary[name].allowed:
            allowed = ", ".join(repr(v) for v in vocabulary[name].allowed)
            raise ValueError(
                f"profile {profile.name}: reading {name} cannot be {value!r} (allowed: {allowed})"
            )
        readings[name] = value
    unknown = sorted(set(profile.faults) - set(known_faults))
    if unknown:
        raise ValueError(f"profile {profile.name}: unknown fault(s): {', '.join(unknown)}")
    return Profile(
        name=profile.name,
        api=profile.api,
        description=profile.description,
        readings=readings,
        faults=frozenset(profile.faults),
        sources=profile.sources,
        conformant=profile.conformant and not profile.faults,
        evidence=dict(profile.evidence),
    )


def _load_document(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return json.loads(text)
    import yaml  # a profile file is data; YAML is what `teleconform drift` writes

    return yaml.safe_load(text)


def read_profile_document(path: Path) -> Any:
    """The parsed content of a profile file (YAML, or JSON by its suffix); errors propagate."""
    return _load_document(path)


def load_profile_file(path: Path, api: str, builtin: Mapping[str, Profile]) -> Profile:
    """A profile from a YAML/JSON file, layered on its ``base`` built-in profile."""
    try:
        data = _load_document(path)
    except OSError as exc:
        raise ValueError(f"cannot read profile {path}: {exc.strerror or exc}") from exc
    except Exception as exc:  # yaml/json syntax errors: one line for the user
        raise ValueError(f"profile {path} is not valid YAML/JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"profile {path}: expected a mapping at the top level")
    if data.get("api", api) != api:
        raise ValueError(f"profile {path} is for {data.get('api')!r}, not {api!r}")
    base_name = str(data.get("base") or DEFAULT_PROFILE)
    if base_name not in builtin:
        raise ValueError(f"profile {path}: unknown base profile {base_name!r}")
    base = builtin[base_name]
    readings = dict(base.readings)
    extra = data.get("readings") or {}
    if not isinstance(extra, dict):
        raise ValueError(f"profile {path}: readings must be a mapping")
    readings.update(extra)
    faults = data.get("faults") or []
    if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
        raise ValueError(f"profile {path}: faults must be a list of fault names")
    evidence = data.get("evidence") or {}
    if not isinstance(evidence, dict):
        raise ValueError(f"profile {path}: evidence must be a mapping of fault name to text")
    return Profile(
        name=str(data.get("name") or path.stem),
        api=api,
        description=str(data.get("description") or f"profile file {path.name} on {base_name}"),
        readings=readings,
        faults=frozenset(base.faults) | frozenset(faults),
        sources=base.sources,
        conformant=False,
        evidence={str(k): str(v) for k, v in dict(evidence).items()},
    )


def resolve_profile(
    spec: str | Profile | None,
    api: str,
    builtin: Mapping[str, Profile],
    vocabulary: Mapping[str, Reading],
    known_faults: Iterable[str],
) -> Profile:
    """A built-in profile by name, a profile file by path, or a Profile; completed."""
    if isinstance(spec, Profile):
        profile = spec
    elif spec is None or spec == "":
        profile = builtin[DEFAULT_PROFILE]
    elif spec in builtin:
        profile = builtin[spec]
    elif Path(spec).suffix.lower() in (".yaml", ".yml", ".json"):
        profile = load_profile_file(Path(spec), api, builtin)
    else:
        raise ValueError(
            f"unknown {api} profile {spec!r}; known: {', '.join(sorted(builtin))} "
            "(or a .yaml/.json profile file)"
        )
    return complete(profile, vocabulary, known_faults)
