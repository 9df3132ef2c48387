"""The proxy streams: a body part reaches the other side before the next one is produced.

Each side waits for the other to have seen the first part before producing the second; a
proxy that buffered whole bodies would make the wait expire (a generous bound that only
detects the deadlock, not a timing assertion).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx

from teleconform.proxy import Proxy
from teleconform.sandbox._server import ThreadedServer

WAIT_S = 30.0
FIRST, SECOND = b"a" * 70_000, b"b" * 70_000


class Upstream:
    """Reads the request body part by part; answers in two parts."""

    def __init__(self) -> None:
        self.first_part_seen = threading.Event()
        self.client_read_first = threading.Event()
        self.waited_for_client = False
        self.received = bytearray()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            self.received.extend(message.get("body", b""))
            if self.received:
                self.first_part_seen.set()
            if not message.get("more_body"):
                break
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        await send({"type": "http.response.body", "body": FIRST, "more_body": True})
        loop = asyncio.get_running_loop()
        self.waited_for_client = await loop.run_in_executor(
            None, self.client_read_first.wait, WAIT_S
        )
        await send({"type": "http.response.body", "body": SECOND, "more_body": False})


def test_request_and_response_bodies_stream_through() -> None:
    upstream = Upstream()
    produced_second_after_seen: list[bool] = []

    def body() -> Iterator[bytes]:
        yield FIRST
        produced_second_after_seen.append(upstream.first_part_seen.wait(WAIT_S))
        yield SECOND

    with (
        ThreadedServer(upstream) as server,
        Proxy(server.base_url, api="leah", credentials={}) as proxy,
    ):
        with (
            httpx.Client(base_url=proxy.base_url, timeout=WAIT_S * 2) as client,
            client.stream("POST", "/api/transfers", content=body()) as response,
        ):
            parts = []
            for chunk in response.iter_raw():
                parts.append(chunk)
                upstream.client_read_first.set()
        proxy.stop()
    assert produced_second_after_seen == [True]  # the first part arrived on its own
    assert upstream.waited_for_client  # the client read the first part before the second
    assert bytes(upstream.received) == FIRST + SECOND
    assert b"".join(parts) == FIRST + SECOND


def test_a_compressed_answer_passes_as_sent_and_is_judged_decoded() -> None:
    import gzip
    import json

    document = {
        "@context": "/api/contexts/Office",
        "@id": "/api/offices",
        "@type": "hydra:Collection",
        "hydra:member": [],
        "hydra:totalItems": 0,
    }
    compressed = gzip.compress(json.dumps(document).encode("utf-8"))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/ld+json"),
                    (b"content-encoding", b"gzip"),
                    (b"content-length", str(len(compressed)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": compressed})

    with ThreadedServer(app) as server, Proxy(server.base_url, credentials={}) as proxy:
        with (
            httpx.Client(base_url=proxy.base_url) as client,
            client.stream("GET", "/api/offices", headers={"LEAH-AUTH-TOKEN": "k"}) as response,
        ):
            raw = b"".join(response.iter_raw())
            encoding = response.headers["content-encoding"]
        _, server_report = proxy.stop()
    assert raw == compressed and encoding == "gzip"
    verdicts = {c["id"]: c["verdict"] for c in server_report["runs"][0]["clauses"]}
    assert verdicts["LEAH-HYDRA-01"] == "pass" and verdicts["LEAH-HYDRA-03"] == "pass"
