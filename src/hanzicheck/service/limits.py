"""Request body limit and admission control, enforced before any route runs (pure ASGI middleware).

The body is read up front (it is small: a drawing) with a byte cap and a deadline, then replayed to the app.
A declared Content-Length over the cap is refused without reading; a body that grows past it while streaming
(chunked uploads) is refused as soon as it does; a client that trickles its body is cut off at the deadline.
The request's arrival time is stored in the scope (``START``): the routes' deadline is end to end from there.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio

Scope = dict[str, Any]
Message = dict[str, Any]
START = "hanzicheck.start"  # scope key: time.monotonic() when the request arrived


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] == "http":
            scope.setdefault(START, time.monotonic())
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, 413, "payload_too_large", self._too_large(declared))
            return
        chunks: list[bytes] = []
        size = 0
        disconnected = False
        with anyio.move_on_after(self.timeout_s - (time.monotonic() - scope[START])) as scope_timer:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected = True
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    await _refuse(send, 413, "payload_too_large", self._too_large(size, streaming=True))
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if scope_timer.cancelled_caught:
            await _refuse(send, 408, "request_timeout",
                          f"the request body did not arrive within {self.timeout_s:g} s")
            return
        if disconnected:
            return
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would report it

        await self.app(scope, replay, send)

    def _too_large(self, size: int, streaming: bool = False) -> str:
        what = f"more than {self.max_bytes:,} bytes" if streaming else f"{size:,} bytes"
        return f"the request body is {what}; the limit is {self.max_bytes:,} bytes: send a smaller image"


class AdmissionMiddleware:
    """How many inference requests may be in the service at once (running, or waiting for a thread): ``limits``
    maps a POST path to its (limit, counter group); a request over any of its groups' limits gets 503 ``busy``
    (with ``Retry-After``) before its body is read or any work starts, so a flood is answered at once instead of
    queueing past every deadline. The event loop is one thread: plain counters are enough."""

    def __init__(self, app, limits: dict[str, list[tuple[str, int]]]) -> None:
        self.app = app
        self.limits = limits
        self.counts: dict[str, int] = {group: 0 for groups in limits.values() for group, _ in groups}

    async def __call__(self, scope: Scope, receive, send) -> None:
        groups = self.limits.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if not groups:
            await self.app(scope, receive, send)
            return
        for group, limit in groups:
            if self.counts[group] >= limit:
                await _refuse(send, 503, "busy", f"the server is busy ({limit} {group} in progress); retry in a "
                              "moment", headers=[(b"retry-after", b"1")])
                return
        for group, _ in groups:
            self.counts[group] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            for group, _ in groups:
                self.counts[group] -= 1


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send, status: int, code: str, message: str,
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
