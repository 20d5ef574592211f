"""Upstream for mcpgw's interop tests: the official MCP Python SDK's Streamable HTTP
server (`MCPServer`), with bearer auth, on 127.0.0.1 and a port the OS picks.

Usage: MCPGW_PEER_TOKEN=<token> [PEER_PORT=<port>] [PEER_STATELESS=1] .venv/bin/python sdk_server.py
Prints one line `LISTENING http://127.0.0.1:<port>/mcp` on stdout once it accepts
connections, then serves until killed or stdin closes. Only requests carrying
`Authorization: Bearer <MCPGW_PEER_TOKEN>` get past the SDK's auth middleware (401).

The same endpoint serves both protocol eras: the SDK routes a request whose
MCP-Protocol-Version header names 2026-07-28 to its stateless per-request entry, and
everything else to the stateful initialize-era transport (sessions, SSE responses
with event ids and resumption, a standalone GET stream).
"""

from __future__ import annotations

import os
import socket
import sys
import warnings
from collections.abc import Callable
from itertools import count
from typing import Annotated, Any

import anyio
import uvicorn
from mcp_types import CreateMessageResult, SamplingMessage, TextContent
from pydantic import BaseModel, Field

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve, Sample
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

sys.dont_write_bytecode = True  # keep tests/peers free of __pycache__
from peer_common import big_text  # noqa: E402

TOKEN_ENV = "MCPGW_PEER_TOKEN"

# The initialize-era features (logging, sampling, subscribe) are exercised on purpose.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)


class OneTokenVerifier:
    """Accepts exactly the token from the environment; anything else is a 401."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if token != self._token:
            return None
        return AccessToken(token=token, client_id="mcpgw-interop", scopes=[])


class MemoryEventStore(EventStore):
    """Keeps every SSE event so a client can resume a stream with Last-Event-ID."""

    def __init__(self) -> None:
        self._ids = count(1)
        self._events: list[tuple[EventId, StreamId, Any]] = []

    async def store_event(self, stream_id: StreamId, message: Any) -> EventId:
        event_id = f"ev-{next(self._ids)}"
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        position = next((i for i, (eid, _, _) in enumerate(self._events) if eid == last_event_id), None)
        if position is None:
            return None
        stream_id = self._events[position][1]
        for event_id, sid, message in self._events[position + 1 :]:
            if sid == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


mcp = MCPServer(
    "mcpgw-interop-upstream",
    version="1.0.0",
    token_verifier=OneTokenVerifier(os.environ.get(TOKEN_ENV, "")),
    auth=AuthSettings(issuer_url="http://127.0.0.1/", resource_server_url=None),
    log_level="WARNING",
)

# Blocking tools meet here: `wait_for(key)` returns once `release(key)` ran, which
# can only happen if the relay carries the second call while the first is open.
_gates: dict[str, anyio.Event] = {}
# Set when a `wait_for(key)` handler is cancelled (the client gave up on the call).
_cancelled: dict[str, anyio.Event] = {}


def _event(events: dict[str, anyio.Event], key: str) -> anyio.Event:
    return events.setdefault(key, anyio.Event())


@mcp.tool()
def echo(text: str) -> str:
    """Returns its argument unchanged."""
    return text


@mcp.tool()
async def progress(steps: int, ctx: Context) -> str:
    """Sends `steps` progress notifications, then answers."""
    for step in range(1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}/{steps} ✓")
    return f"done {steps}"


@mcp.tool()
def big(size: int) -> str:
    """Returns `big_text(size)`: a large result (the tests ask for over 5 MB)."""
    return big_text(size)


@mcp.tool()
def fail(message: str) -> str:
    """A tool failure: a result with isError set."""
    raise ToolError(message)


@mcp.tool()
def protocol_error(message: str) -> str:
    """A JSON-RPC error response instead of a result."""
    raise MCPError(code=-32042, message=message, data={"why": "asked to"})


@mcp.tool()
async def wait_for(key: str, ctx: Context) -> str:
    """Reports progress once it is waiting, then blocks until `release(key)` runs."""
    try:
        await ctx.report_progress(0, 1, f"waiting for {key}")
        await _event(_gates, key).wait()
    except anyio.get_cancelled_exc_class():
        _event(_cancelled, key).set()
        raise
    return f"released {key}"


@mcp.tool()
def release(key: str) -> str:
    """Unblocks `wait_for(key)`."""
    _event(_gates, key).set()
    return f"released {key}"


@mcp.tool()
async def was_cancelled(key: str, within: float) -> bool:
    """Whether a `wait_for(key)` handler is cancelled within `within` seconds."""
    with anyio.move_on_after(within):
        await _event(_cancelled, key).wait()
    return _event(_cancelled, key).is_set()


@mcp.tool()
def region_info(
    ctx: Context,
    region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})],
    dry_run: Annotated[bool, Field(json_schema_extra={"x-mcp-header": "Dry-Run"})] = False,
    limit: Annotated[int, Field(json_schema_extra={"x-mcp-header": "Limit"})] = 0,
) -> dict[str, Any]:
    """Arguments mirrored into Mcp-Param-* headers (2026-07-28). The SDK itself
    rejects a call whose headers do not match the body; this echoes what it saw."""
    headers = ctx.headers or {}
    return {
        "region": region,
        "dry_run": dry_run,
        "limit": limit,
        "headers": {k: v for k, v in headers.items() if k.lower().startswith("mcp-")},
    }


class Confirm(BaseModel):
    name: str
    ok: bool


def ask_name() -> Elicit[Confirm]:
    return Elicit("Who is there? — ¿quién?", Confirm)


@mcp.tool()
def greet(answer: Annotated[Confirm, Resolve(ask_name)]) -> str:
    """Elicits a name from the client (a server→client request in the initialize
    era, an InputRequiredResult round trip in 2026-07-28)."""
    return f"hello {answer.name} ok={answer.ok}"


def ask_model() -> Sample:
    return Sample(
        [SamplingMessage(role="user", content=TextContent(type="text", text="Say 'pong' — ünïcode"))],
        max_tokens=16,
    )


@mcp.tool()
def think(reply: Annotated[CreateMessageResult, Resolve(ask_model)]) -> str:
    """Samples the client's model and returns its text."""
    content = reply.content
    return f"model said: {getattr(content, 'text', content)}"


@mcp.tool()
async def chatty(ctx: Context) -> str:
    """A log message on this request's stream (2026-07-28: only for a request that
    opts in with a log level) and a resource update with no related request, which
    the initialize-era server sends on the standalone GET stream (2026-07-28 drops it)."""
    await ctx.info("chatty log ✓")
    await ctx.session.send_resource_updated("memo://standalone")
    return "chatty done"


@mcp.tool()
async def resumable(ctx: Context) -> str:
    """Initialize era: closes this request's SSE stream after one progress event; the
    rest arrives only to a client that resumes with GET + Last-Event-ID."""
    await ctx.report_progress(1, 3, "before close")
    await ctx.close_sse_stream()
    await ctx.report_progress(2, 3, "after close")
    await ctx.report_progress(3, 3, "after close")
    return "resumed ok"


@mcp.tool()
async def publish(uri: str, ctx: Context) -> str:
    """2026-07-28: publishes a resource-updated event to `subscriptions/listen` streams."""
    await ctx.notify_resource_updated(uri)
    return f"published {uri}"


@mcp.resource("memo://standalone")
def memo() -> str:
    return "memo"


class _Server(uvicorn.Server):
    """Announces the URL once the listening socket is serving."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._announce()


async def _exit_when_stdin_closes(server: uvicorn.Server) -> None:
    """Lets a harness stop the server by closing its stdin (no orphan on a crash)."""
    await anyio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)
    server.should_exit = True


async def main() -> None:
    if not os.environ.get(TOKEN_ENV):
        sys.exit(f"sdk_server.py: set {TOKEN_ENV} to the bearer token to accept")
    if os.environ.get("PEER_STATELESS"):
        # No sessions: each POST is served by a fresh connection (the GET stream stays).
        app = mcp.streamable_http_app(stateless_http=True)
    else:
        app = mcp.streamable_http_app(event_store=MemoryEventStore(), retry_interval=200)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(os.environ.get("PEER_PORT") or 0)))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1)
    server = _Server(config, lambda: print(f"LISTENING http://127.0.0.1:{port}/mcp", flush=True))
    async with anyio.create_task_group() as tg:
        tg.start_soon(_exit_when_stdin_closes, server)
        await server.serve(sockets=[sock])
        tg.cancel_scope.cancel()


if __name__ == "__main__":
    anyio.run(main)
