"""Fault injection with real processes: a receiver that misbehaves, a proxy that cuts.

``serve``: the real receiver app (central.app) wrapped in an ASGI layer that
reads a plan (JSON file, re-read on every request so a test can change it)
and answers 500s, stalls, or a captive portal's 200 HTML page before passing
requests through. ``proxy``: a TCP proxy that closes the first N
connections after forwarding a given number of request bytes (a cable
pulled mid-body).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any


class Faults:
    def __init__(self, app: Any, plan: Path) -> None:
        self.app = app
        self.plan = plan
        self.seen = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        plan = json.loads(self.plan.read_text()) if self.plan.exists() else {}
        only = plan.get("only")
        if scope["path"].endswith("/health") or (only and only not in scope["path"]):
            return await self.app(scope, receive, send)
        self.seen += 1
        if self.seen <= plan.get("error_first", 0):
            status = plan.get("status", 500)
            headers = [(b"content-type", b"application/json")]
            if "retry_after" in plan:
                headers.append((b"retry-after", str(plan["retry_after"]).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"error":"injected"}'})
            return None
        if self.seen <= plan.get("stall_first", 0):
            await asyncio.sleep(plan.get("stall_seconds", 3.0))
        if plan.get("portal"):
            page = b"<html><body>Welcome to School-WiFi. Please log in.</body></html>"
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/html")],
                }
            )
            await send({"type": "http.response.body", "body": page})
            return None
        return await self.app(scope, receive, send)


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from central.app import create_app
    from tests.backends import central_storage

    storage = central_storage(Path(args.data), create=True)  # the back end CENTRAL_DB/PHOTOS name
    storage.photos.clean_temporary()
    app = Faults(create_app(storage.photos, storage.metadata), Path(args.plan))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="off")


async def proxy(args: argparse.Namespace) -> None:
    counter = {"n": 0}

    async def pipe(reader: Any, writer: Any, limit: int | None, flip: int | None = None) -> None:
        sent = 0
        try:
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                if flip is not None and sent <= flip < sent + len(chunk):
                    damaged = bytearray(chunk)
                    damaged[flip - sent] ^= 0x55  # one bad byte, as a bad link would do
                    chunk = bytes(damaged)
                if limit is not None and sent + len(chunk) > limit:
                    writer.write(chunk[: limit - sent])
                    await writer.drain()
                    raise ConnectionAbortedError
                sent += len(chunk)
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()

    async def handle(client_reader: Any, client_writer: Any) -> None:
        counter["n"] += 1
        number = counter["n"]
        faulty = number <= args.cut_connections
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", args.upstream)
        if faulty and args.corrupt_at is not None:
            print(f"corrupting connection {number} at byte {args.corrupt_at}", flush=True)
            upstream = pipe(client_reader, upstream_writer, None, args.corrupt_at)
        elif faulty:
            print(f"cutting connection {number} after {args.cut_after} bytes", flush=True)
            upstream = pipe(client_reader, upstream_writer, args.cut_after)
        else:
            upstream = pipe(client_reader, upstream_writer, None)
        tasks = [
            asyncio.ensure_future(upstream),
            asyncio.ensure_future(pipe(upstream_reader, client_writer, None)),
        ]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in pending:
            if any(t.exception() for t in done if not t.cancelled()):
                task.cancel()
        for writer in (client_writer, upstream_writer):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--data", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--plan", required=True)
    p = sub.add_parser("proxy")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--cut-connections", type=int, default=3)
    p.add_argument("--cut-after", type=int, default=20000)
    p.add_argument("--corrupt-at", type=int, default=None, help="flip a byte instead of cutting")
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args)
    else:
        asyncio.run(proxy(args))


if __name__ == "__main__":
    main()
