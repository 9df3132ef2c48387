"""vcrpy is a test tool here: the cassettes stay vcrpy-readable, teleconform never imports it.

Why vcrpy does no runtime work: docs/decisions/vcrpy.md (figures from benchmarks/vcrpy_spike.py).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import httpx
import pytest
import vcr
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from teleconform.cassettes import cassettes_dir
from teleconform.cassettes._format import load_cassette

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(cassettes_dir().rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_vcrpy_reads_every_shipped_cassette(path: Path) -> None:
    ours = load_cassette(path)
    requests, responses, metadata = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
    assert metadata == ours.metadata
    assert [(r.method, r.uri) for r in requests] == [(i.method, i.uri) for i in ours.interactions]
    assert [r["status"]["code"] for r in responses] == [i.status for i in ours.interactions]


def test_vcrpy_serves_a_shipped_cassette() -> None:
    path = cassettes_dir() / "hcw" / "auth.yaml"
    first = load_cassette(path).interactions[0]

    def offline(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"reached the network: {request.url}")

    with (
        vcr.VCR(record_mode="none").use_cassette(str(path)),
        httpx.Client(transport=httpx.MockTransport(offline)) as client,
    ):
        answer = client.request(first.method, first.uri, content=first.request_body or b"")
    assert (answer.status_code, answer.text) == (first.status, first.response_body)


def test_vcrpy_is_only_a_test_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not [d for d in project["dependencies"] if d.startswith("vcrpy")]
    assert [d for d in project["optional-dependencies"]["test"] if d.startswith("vcrpy")]
    importers = []
    for path in sorted((REPO / "src" / "teleconform").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "vcr" or n.startswith("vcr.") for n in names):
                importers.append(str(path.relative_to(REPO)))
    assert importers == []
