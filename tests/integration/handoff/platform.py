"""A small helpline platform for the webhook tests: it checks the bot's signatures the way
docs/operators.md tells an integrator to (HMAC-SHA256 of "<timestamp>.<body>", written here
with hmac alone), keeps what it received, and sends the bot signed requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from tests.helpers import async_wait_until

PLATFORM_SECRET = "a webhook secret for the tests, long enough"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


class Platform:
    """The platform's side: ``/events`` receives the bot's webhooks."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.refused_signatures = 0
        self.failing = 0
        """Answer this many deliveries with 503 (the platform is having trouble)."""
        self.retry_after: str | None = None
        """While failing, answer 429 with this Retry-After instead."""
        self.attempts: list[float] = []
        """When each signed delivery came (monotonic seconds)."""
        self.bot_url = ""
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/events", self.events)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def events(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Redirection-Timestamp", "")
        given = request.headers.get("X-Redirection-Signature", "")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        if not fresh or not hmac.compare_digest(given, sign(self.secret, int(timestamp), body)):
            self.refused_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        self.attempts.append(time.monotonic())
        if self.failing > 0:
            self.failing -= 1
            if self.retry_after is not None:
                headers = {"Retry-After": self.retry_after}
                return web.json_response({"error": "slow down"}, status=429, headers=headers)
            return web.json_response({"error": "try later"}, status=503)
        self.received.append(json.loads(body))
        return web.json_response({"ok": True})

    async def wait_for(self, kind: str, count: int = 1, **fields: Any) -> list[dict[str, Any]]:
        def matching() -> list[dict[str, Any]]:
            return [
                event
                for event in self.received
                if event["type"] == kind and all(event.get(k) == v for k, v in fields.items())
            ]

        async def enough() -> bool:
            return len(matching()) >= count

        await async_wait_until(enough, 20, f"{count} {kind} {fields}")
        return matching()

    def signed(
        self, payload: dict[str, Any], secret: str | None = None, skew: int = 0
    ) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload).encode()
        return body, self.signature(body, secret, skew)

    def signature(self, body: bytes, secret: str | None = None, skew: int = 0) -> dict[str, str]:
        """The headers that sign ``body`` as the helpline's platform does."""
        timestamp = int(time.time()) + skew
        return {
            "Content-Type": "application/json",
            "X-Redirection-Timestamp": str(timestamp),
            "X-Redirection-Signature": sign(secret or self.secret, timestamp, body),
        }

    async def send(
        self, payload: dict[str, Any], secret: str | None = None, skew: int = 0
    ) -> tuple[int, dict[str, Any]]:
        """Sign and POST a request to the bot; (status, answer)."""
        payload = {"id": uuid.uuid4().hex, **payload}
        body, headers = self.signed(payload, secret, skew)
        return await self.post(body, headers)

    async def post_signed(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """POST ``body`` as it is (malformed, say), signed; (status, answer)."""
        return await self.post(body, self.signature(body))

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.bot_url, data=body, headers=headers) as answer,
        ):
            return answer.status, await answer.json()
