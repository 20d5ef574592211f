#!/bin/sh
# Installs the third-party bridges that `cargo bench --bench relay` compares mcpgw
# with, into target/bench-peers/ (or $MCPGW_BENCH_PEERS): mcp-remote from npm and
# mcp-proxy from PyPI, each at its latest version when first installed. Idempotent:
# a peer that is already there is kept; `--upgrade` re-resolves "latest".
# Needs node + npm and python3 (with venv). Prints the installed versions.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
peers=${MCPGW_BENCH_PEERS:-$root/target/bench-peers}
upgrade=0
for arg in "$@"; do
    case $arg in
        --upgrade) upgrade=1 ;;
        -h | --help)
            echo "usage: $0 [--upgrade]   (installs into ${peers})"
            exit 0
            ;;
        *)
            echo "install-peers.sh: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

need() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "install-peers.sh: '$1' is required but not on PATH" >&2
        exit 1
    }
}

mkdir -p "$peers"

# mcp-remote (npm) into $peers/node
remote_bin=$peers/node/node_modules/.bin/mcp-remote
if [ "$upgrade" = 1 ] || [ ! -x "$remote_bin" ]; then
    need node
    need npm
    mkdir -p "$peers/node"
    echo "installing mcp-remote@latest into $peers/node" >&2
    npm install --prefix "$peers/node" --no-audit --no-fund --loglevel=error \
        mcp-remote@latest >&2
fi
[ -x "$remote_bin" ] || {
    echo "install-peers.sh: mcp-remote did not install ($remote_bin missing)" >&2
    exit 1
}

# mcp-proxy (PyPI) into the venv $peers/venv
proxy_bin=$peers/venv/bin/mcp-proxy
if [ "$upgrade" = 1 ] || [ ! -x "$proxy_bin" ]; then
    need python3
    if [ ! -x "$peers/venv/bin/python" ]; then
        echo "creating venv $peers/venv" >&2
        python3 -m venv "$peers/venv"
    fi
    echo "installing mcp-proxy (latest) into $peers/venv" >&2
    "$peers/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --upgrade mcp-proxy >&2
fi
[ -x "$proxy_bin" ] || {
    echo "install-peers.sh: mcp-proxy did not install ($proxy_bin missing)" >&2
    exit 1
}

remote_version=$(node -p "require('$peers/node/node_modules/mcp-remote/package.json').version")
proxy_version=$("$peers/venv/bin/python" -c "import importlib.metadata as m; print(m.version('mcp-proxy'))")
echo "mcp-remote $remote_version ($remote_bin)"
echo "mcp-proxy $proxy_version ($proxy_bin)"
