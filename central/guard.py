"""Keep idle and half-sent connections from locking every kiosk out.

The hostile review held a half-sent request head open for 46 s, and 1,100
idle one-byte connections exhausted the process's file descriptors, after
which ``/v1/health`` timed out and asyncio logged "socket.accept() out of
system resource" 90 MB deep. Three defences, all at the connection level
(the HTTP app never sees a request that has not arrived):

- a **head timeout**: a connection that has not sent a complete request head
  within ``head_timeout`` seconds of opening (or of its previous answer) is
  answered 408 and closed;
- a **connection cap** below the process's descriptor limit: a new
  connection beyond it first evicts the oldest connection that is waiting
  for a head (an idle or dribbling client costs the attacker, not the
  kiosks); when every connection is busy with a request it is answered
  ``503`` with ``Retry-After`` and closed;
- the stalled **body** is the app's: no byte for ``body_timeout`` seconds
  ends the upload with 408 and removes its temp file (central/app.py).

uvicorn's ``limit_concurrency`` only answers 503 once a request head has
arrived, so it cannot see idle connections; this protocol subclass can.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import socket
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from kiosk.sync import protocol

log = logging.getLogger("central")

# Descriptors the process needs besides client connections: SQLite, photo
# files being written, the listening socket, the thread pool's files, logs.
RESERVED_DESCRIPTORS = 64
# asyncio accepts up to the listen backlog per loop turn, and an accepted
# socket reaches the protocol (where it can be evicted) and is closed a few
# turns later, so a few backlogs' worth of descriptors are in flight.
ACCEPT_BACKLOG = 32
ACCEPTS_IN_FLIGHT = 5 * ACCEPT_BACKLOG
# The kernel's queue of finished handshakes costs no descriptor; a long one
# lets a burst of clients wait there instead of retrying SYNs for seconds.
LISTEN_QUEUE = 2048


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int = 1000
    head_timeout: float = 10.0
    body_timeout: float = 20.0
    retry_after: int = 5  # seconds a refused kiosk waits (it adds its own jitter)


def descriptor_budget(wanted: int) -> tuple[int, int]:
    """Raise the soft descriptor limit to the hard one; the cap that fits under it.

    Returns (connection cap, soft limit). systemd's default soft limit is
    1024; central.service raises it with LimitNOFILE, and this keeps the cap
    honest when someone runs the receiver without the unit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return max(1, min(wanted, soft - RESERVED_DESCRIPTORS - ACCEPTS_IN_FLIGHT)), soft


def refusal_bytes(status: int, reason: str, error: str, message: str, **headers: str) -> bytes:
    """A complete HTTP/1.1 answer written before (or without) reading a request."""
    body = json.dumps({"error": error, "message": message}).encode("utf-8")
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("ascii") + body


def guarded_protocol(limits: ConnectionLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a head deadline and a connection cap."""
    busy_refusal = refusal_bytes(
        503,
        "Service Unavailable",
        protocol.ERR_BUSY,
        "the receiver has too many connections; retry later",
        **{"Retry-After": str(limits.retry_after)},
    )
    head_refusal = refusal_bytes(
        408, "Request Timeout", protocol.ERR_TIMEOUT, "the request head did not arrive in time"
    )

    class GuardedProtocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.head_deadline: asyncio.TimerHandle | None = None
            self.opened_at = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.opened_at = self.loop.time()
            if len(self.connections) > limits.max_connections and not self._evict_one():
                log.warning("connection cap (%d) reached: answering 503", limits.max_connections)
                transport.write(busy_refusal)
                transport.close()
                self.connections.discard(self)
                return
            self._arm_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_deadline()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_head_deadline()

        def waiting_for_head(self) -> bool:
            return self.conn.their_state is h11.IDLE and (
                self.cycle is None or self.cycle.response_complete
            )

        def _evict_one(self) -> bool:
            """Close the oldest other connection that is only waiting for a head."""
            idle = [
                c
                for c in self.connections
                if c is not self and isinstance(c, GuardedProtocol) and c.waiting_for_head()
            ]
            if not idle:
                return False
            oldest = min(idle, key=lambda c: c.opened_at)
            oldest.transport.write(busy_refusal)
            oldest.transport.close()
            self.connections.discard(oldest)
            return True

        def _arm_head_deadline(self) -> None:
            self._disarm_head_deadline()
            self.head_deadline = self.loop.call_later(limits.head_timeout, self._head_overdue)

        def _disarm_head_deadline(self) -> None:
            if self.head_deadline is not None:
                self.head_deadline.cancel()
                self.head_deadline = None

        def _head_overdue(self) -> None:
            self.head_deadline = None
            if self.transport.is_closing() or not self.waiting_for_head():
                return
            self.transport.write(head_refusal)
            self.transport.close()

    return GuardedProtocol


class GuardedServer(uvicorn.Server):
    """uvicorn's server with a long kernel listen queue but few accepts per loop turn.

    asyncio uses one number for both (the ``backlog``): we start with
    ``ACCEPT_BACKLOG`` and then lengthen only the kernel's queue.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        for server in getattr(self, "servers", []):
            for listening in server.sockets:
                with socket.socket(fileno=os.dup(listening.fileno())) as twin:
                    twin.listen(LISTEN_QUEUE)
