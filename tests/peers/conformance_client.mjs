// The client under test for @modelcontextprotocol/conformance: the TypeScript SDK's
// Client on a StdioClientTransport that spawns `mcpgw <server URL>`, so every byte the
// suite's test server sees went through mcpgw.
//
// The conformance runner calls `<command> <server URL>` with MCP_CONFORMANCE_SCENARIO
// set; PEER_MCPGW names the mcpgw binary and MCPGW_BEARER_TOKEN is passed on to it
// (the suite's non-OAuth servers ignore it). run_conformance.mjs drives this.
import process from "node:process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const scenarios = {
  // Handshake: initialize + notifications/initialized, then an ordinary request.
  async initialize(client) {
    await client.listTools();
  },

  async tools_call(client) {
    const { tools } = await client.listTools();
    if (!tools.some((t) => t.name === "add_numbers")) throw new Error("add_numbers is not listed");
    const result = await client.callTool({ name: "add_numbers", arguments: { a: 5, b: 3 } });
    const text = result.content?.[0]?.text ?? "";
    if (!text.includes("8")) throw new Error(`add_numbers answered ${JSON.stringify(result)}`);
  },

  // The server's elicitation/create arrives on the POST's SSE stream; the SDK fills
  // in the schema's defaults (applyDefaults) and mcpgw POSTs the answer back.
  "elicitation-sep1034-client-defaults": {
    capabilities: { elicitation: { form: { applyDefaults: true } } },
    setup(client) {
      client.setRequestHandler(ElicitRequestSchema, () => ({ action: "accept", content: {} }));
    },
    async run(client) {
      const result = await client.callTool({ name: "test_client_elicitation_defaults", arguments: {} });
      const text = result.content?.[0]?.text ?? "";
      if (!text.startsWith("Elicitation completed")) throw new Error(`elicitation tool answered ${text}`);
    },
  },

  // The server closes the tools/call stream after a priming event (retry: 500); the
  // answer comes only on a GET with Last-Event-ID sent after that delay.
  "sse-retry": async (client) => {
    await client.listTools();
    const result = await client.callTool({ name: "test_reconnection", arguments: {} });
    const text = result.content?.[0]?.text ?? "";
    if (!text.includes("Reconnection test completed successfully")) {
      throw new Error(`test_reconnection answered ${JSON.stringify(result)}`);
    }
  },
};

async function main() {
  const url = process.argv[2];
  const name = process.env.MCP_CONFORMANCE_SCENARIO;
  const mcpgw = process.env.PEER_MCPGW;
  if (!url || !name || !mcpgw) {
    throw new Error("needs the server URL argument, MCP_CONFORMANCE_SCENARIO and PEER_MCPGW");
  }
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`scenario ${name} is not handled by conformance_client.mjs`);
  const { capabilities = {}, setup = () => {}, run = scenario } =
    typeof scenario === "function" ? { run: scenario } : scenario;

  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => k.startsWith("MCPGW_") || k.startsWith("XDG_") || ["HOME", "PATH", "RUST_BACKTRACE"].includes(k),
    ),
  );
  const transport = new StdioClientTransport({ command: mcpgw, args: [url], env, stderr: "inherit" });
  const client = new Client({ name: "mcpgw-conformance-client", version: "1.0.0" }, { capabilities });
  const errors = [];
  client.onerror = (err) => errors.push(String(err));
  setup(client);
  await client.connect(transport);
  const child = transport._process;
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  try {
    await run(client);
  } finally {
    await client.close();
  }
  const status = await exited;
  if (status !== 0) throw new Error(`mcpgw exited with ${status} after stdin EOF`);
  if (errors.length) throw new Error(`client transport errors:\n${errors.join("\n")}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`conformance_client: ${err?.stack || err}`);
    process.exit(1);
  },
);
