#!/bin/sh
# Install mcpgw from this source tree for the current user.
#
#   ./install.sh                 build with cargo and install into ~/.local
#   ./install.sh --prefix DIR    install into DIR/bin (and DIR/share)
#   ./install.sh --binary PATH   install an already-built mcpgw instead of building
#                                (also MCPGW_INSTALL_BINARY=PATH)
#
# What it does: `cargo install --path . --locked --root PREFIX` (the only network
# access is cargo fetching crates from the registry), then shell completions for
# the shells found on this machine (bash-completion's user dir, zsh site-functions
# under the prefix, fish's user dir) and the man pages under PREFIX/share/man.
# Running it again replaces the same files; nothing else is touched.

set -eu

prefix="${HOME:?HOME is not set}/.local"
binary="${MCPGW_INSTALL_BINARY:-}"

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    printf 'install.sh: error: %s\n' "$1" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary="$2"; shift 2 ;;
        --binary=*) binary="${1#--binary=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done

case "$prefix" in
    /*) ;;
    *) prefix="$(pwd)/$prefix" ;;
esac
src="$(cd "$(dirname "$0")" && pwd)"
bindir="$prefix/bin"
target="$bindir/mcpgw"

say() {
    printf '%s\n' "$1"
}

# Copies $1 to $2 through a temporary file and a rename, so a running mcpgw
# (Claude Code keeps relays alive) is never overwritten in place.
put() {
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.tmp.$$"
    chmod "$3" "$2.tmp.$$"
    mv -f "$2.tmp.$$" "$2"
}

# ---- the binary --------------------------------------------------------------

if [ -n "$binary" ]; then
    if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
        die "--binary $binary is not an executable file"
    fi
    put "$binary" "$target" 755
    say "Installed $binary as $target"
else
    if ! command -v cargo >/dev/null 2>&1; then
        die "cargo was not found on PATH. mcpgw is built from source with Rust's cargo:
  install Rust from https://rustup.rs (or your package manager), open a new shell, and run ./install.sh again"
    fi
    say "Building mcpgw with cargo (a release build takes a few minutes)..."
    # --force: reinstall even when the version number is unchanged (the source may not be).
    cargo install --path "$src" --locked --force --root "$prefix"
fi

"$target" --version >/dev/null 2>&1 || die "the installed $target does not run"

# ---- completions and man pages -------------------------------------------------

data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
config_home="${XDG_CONFIG_HOME:-$HOME/.config}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

completion() {
    # $1 shell, $2 destination
    "$target" completions "$1" >"$tmp/completion" || die "mcpgw completions $1 failed"
    put "$tmp/completion" "$2" 644
    say "Installed $1 completions: $2"
}

installed_shells=""
if command -v bash >/dev/null 2>&1; then
    completion bash "$data_home/bash-completion/completions/mcpgw"
    installed_shells="$installed_shells bash"
fi
if command -v zsh >/dev/null 2>&1; then
    zsh_dir="$prefix/share/zsh/site-functions"
    completion zsh "$zsh_dir/_mcpgw"
    installed_shells="$installed_shells zsh"
fi
if command -v fish >/dev/null 2>&1; then
    completion fish "$config_home/fish/completions/mcpgw.fish"
    installed_shells="$installed_shells fish"
fi

if [ -d "$src/man" ]; then
    for page in "$src"/man/*.1; do
        [ -f "$page" ] || continue
        put "$page" "$prefix/share/man/man1/$(basename "$page")" 644
    done
    say "Installed man pages: $prefix/share/man/man1 (man mcpgw)"
fi

# ---- next steps ------------------------------------------------------------------

say ""
say "mcpgw $("$target" --version | sed 's/^mcpgw //') is installed at $target"
case ":${PATH:-}:" in
    *":$bindir:"*) ;;
    *)
        say ""
        say "$bindir is not on your PATH. Add it, e.g. in ~/.profile or your shell's rc file:"
        say "  export PATH=\"$bindir:\$PATH\""
        ;;
esac
case "$installed_shells" in
    *zsh*)
        say ""
        say "zsh: if completions do not appear, add this before compinit in ~/.zshrc:"
        say "  fpath=(\"$zsh_dir\" \$fpath)"
        ;;
esac
say ""
say "Next steps:"
say "  mcpgw login                    # sign in to Alibaba Cloud in the browser"
say "  mcpgw services add ecs <URL>   # name an MCP server from the console (its …/mcp URL)"
say "  mcpgw setup claude --apply     # register your services with Claude Code"
say "  mcpgw doctor                   # check that everything works"
