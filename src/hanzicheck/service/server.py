"""Running the service on uvicorn (``hanzicheck serve``), with a deadline for request headers.

uvicorn times out idle keep-alive connections, but not a connection that trickles its request line and headers
(slowloris): it would stay open for ever. ``header_timeout_protocol`` is uvicorn's h11 protocol with a timer:
from the connection's opening, and again after each response, the next request's headers must be complete
within ``header_timeout_s`` or the connection is closed. The body has its own deadline (``limits.py``).
In production, put a reverse proxy in front anyway (README, "Serving in production").
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol; a request's headers must arrive within ``header_timeout_s`` seconds."""

    header_timeout_s = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        waiting_for = self.cycle  # a new cycle starts when the next request's headers are complete
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout, waiting_for)

    def _header_timeout(self, waiting_for: Any) -> None:
        self._header_timer = None
        if self.cycle is waiting_for and not self.transport.is_closing():
            self.transport.close()  # no complete request head in time: drop the connection

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._arm_header_timer()  # before the parent handles a pipelined request (which starts a new cycle)
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)


def header_timeout_protocol(seconds: float) -> type[H11Protocol]:
    """The h11 protocol class with this header deadline (for ``uvicorn.run(..., http=...)``)."""
    return type("HeaderTimeoutH11Protocol", (HeaderTimeoutH11Protocol,), {"header_timeout_s": float(seconds)})


def run(app: Any, host: str, port: int, header_timeout_s: float, log_level: str = "info",
        fd: int | None = None) -> None:
    """Serve ``app`` with uvicorn: h11 with the header deadline, idle keep-alive connections closed after 5 s."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, fd=fd, log_level=log_level, timeout_graceful_shutdown=5,
                timeout_keep_alive=5, http=header_timeout_protocol(header_timeout_s))
