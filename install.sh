#!/bin/sh
# Install mcpgw for the current user.
#
#   curl -fsSL https://github.com/mcpgw/mcpgw/releases/latest/download/install.sh | sh
#   sh install.sh [OPTIONS]            (from a release or a source checkout)
#
# By default it downloads the prebuilt archive for this OS and CPU from the latest
# release, checks it against the release's SHA256SUMS and installs it. See
# `sh install.sh --help` (or usage() below) for the options and settings.
#
# Running it again replaces the same files with the same content; nothing else is
# touched. A failed download or checksum leaves everything as it was.

set -eu

# The release host. A mirror has the same layout under MCPGW_INSTALL_BASE_URL:
#   BASE/latest.txt                       the latest version number, e.g. 0.2.0
#   BASE/vVERSION/SHA256SUMS              sha256sum lines for the archives
#   BASE/vVERSION/mcpgw-VERSION-TARGET.tar.gz
# GitHub serves the latest release's latest.txt under releases/latest/download.
DEFAULT_BASE_URL="https://github.com/mcpgw/mcpgw/releases/download"
DEFAULT_LATEST_URL="https://github.com/mcpgw/mcpgw/releases/latest/download/latest.txt"

usage() {
    cat <<'EOF'
Install mcpgw for the current user.

  sh install.sh                  download the prebuilt mcpgw for this OS and CPU from
                                 the latest release, verify it against SHA256SUMS and
                                 install it into ~/.local/bin
  sh install.sh --version X      that release instead of the latest
  sh install.sh --prefix DIR     install into DIR/bin (and DIR/share) instead of ~/.local
  sh install.sh --from-source    build with cargo instead: this source tree when run from
                                 a checkout, else the crate from crates.io
  sh install.sh --binary PATH    install an already-built mcpgw

Prebuilt archives exist for Linux x86_64/aarch64 (static, musl) and macOS x86_64/arm64.
Elsewhere it builds from source with cargo (and says so).

Settings (environment):
  MCPGW_INSTALL_BASE_URL=URL     download from a mirror instead of GitHub releases:
                                 URL/latest.txt, URL/vX/SHA256SUMS, URL/vX/<archive>
  MCPGW_INSTALL_VERSION=X        same as --version X
  MCPGW_INSTALL_TARGET=TRIPLE    the archive's target triple instead of the detected one
  MCPGW_INSTALL_BINARY=PATH      same as --binary PATH

It also installs shell completions for the shells it finds (bash, zsh, fish) and the
man pages under PREFIX/share/man. Needs curl or wget, tar, and sha256sum or shasum.
EOF
}

die() {
    printf 'install.sh: error: %s\n' "$1" >&2
    exit 1
}

say() {
    printf '%s\n' "$1"
}

prefix="${HOME:?HOME is not set}/.local"
binary="${MCPGW_INSTALL_BINARY:-}"
version="${MCPGW_INSTALL_VERSION:-}"
from_source=""

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --binary) [ $# -ge 2 ] || die "--binary needs a path"; binary="$2"; shift 2 ;;
        --binary=*) binary="${1#--binary=}"; shift ;;
        --version) [ $# -ge 2 ] || die "--version needs a version number, e.g. --version 0.1.0"; version="$2"; shift 2 ;;
        --version=*) version="${1#--version=}"; shift ;;
        --from-source) from_source=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done

case "$prefix" in
    /*) ;;
    *) prefix="$(pwd)/$prefix" ;;
esac
version="${version#v}"
if [ -n "$version" ]; then
    case "$version" in
        [0-9]*.[0-9]*.[0-9]*) ;;
        *) die "'$version' is not a version number (want e.g. 0.1.0)" ;;
    esac
    case "$version" in
        *[!0-9A-Za-z.+-]*) die "'$version' is not a version number (want e.g. 0.1.0)" ;;
    esac
fi
bindir="$prefix/bin"
dest="$bindir/mcpgw"

tmp=""
cleanup() {
    [ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

make_tmp() {
    [ -n "$tmp" ] || tmp="$(mktemp -d)" || die "mktemp -d failed (is TMPDIR writable?)"
}

# Copies $1 to $2 through a temporary file in $2's directory and a rename, so a
# running mcpgw (Claude Code keeps relays alive) is never overwritten in place.
put() {
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2.tmp.$$"
    chmod "$3" "$2.tmp.$$"
    mv -f "$2.tmp.$$" "$2"
}

# The archive's target triple for this machine, or nothing when no archive is built.
detect_target() {
    os="$(uname -s 2>/dev/null || echo unknown)"
    arch="$(uname -m 2>/dev/null || echo unknown)"
    case "$os/$arch" in
        Linux/x86_64 | Linux/amd64) echo x86_64-unknown-linux-musl ;;
        Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
        Darwin/x86_64) echo x86_64-apple-darwin ;;
        Darwin/arm64 | Darwin/aarch64) echo aarch64-apple-darwin ;;
        *) echo "" ;;
    esac
}

# download URL FILE
download() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 -o "$2" "$1" || return 1
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1" || return 1
    else
        die "neither curl nor wget was found: install one of them (e.g. apt-get install curl) and run this again"
    fi
}

fetch() {
    download "$1" "$2" || die "could not download $1
  Check your network and the version (--version), or use a mirror: MCPGW_INSTALL_BASE_URL=URL"
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | awk '{print $1}'
    else
        shasum -a 256 "$1" | awk '{print $1}'
    fi
}

src="$(cd "$(dirname "$0")" 2>/dev/null && pwd || echo .)"
in_source_tree() {
    [ -f "$src/Cargo.toml" ] && [ -f "$src/src/main.rs" ] &&
        grep -q '^name = "mcpgw"' "$src/Cargo.toml" 2>/dev/null
}

# ---- what to install ------------------------------------------------------------

mode=download
triple=""
if [ -n "$binary" ]; then
    mode=binary
elif [ -n "$from_source" ]; then
    mode=source
else
    triple="${MCPGW_INSTALL_TARGET:-$(detect_target)}"
    if [ -z "$triple" ]; then
        say "There is no prebuilt mcpgw for $(uname -s 2>/dev/null || echo this OS) $(uname -m 2>/dev/null || echo) (prebuilt: Linux x86_64/aarch64, macOS x86_64/arm64)."
        say "Building it from source with cargo instead."
        mode=source
        no_prebuilt=1
    fi
fi
man_src=""

# ---- the binary --------------------------------------------------------------

case "$mode" in
binary)
    if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
        die "--binary $binary is not an executable file"
    fi
    put "$binary" "$dest" 755
    say "Installed $binary as $dest"
    if in_source_tree; then man_src="$src/man"; fi
    ;;
source)
    if ! command -v cargo >/dev/null 2>&1; then
        if [ -n "${no_prebuilt:-}" ]; then
            die "cargo was not found on PATH, and there is no prebuilt mcpgw for this platform.
  Install Rust from https://rustup.rs (or your package manager), open a new shell and run this again;
  or install a binary you built elsewhere with: sh install.sh --binary PATH"
        fi
        die "cargo was not found on PATH. --from-source builds mcpgw with Rust's cargo:
  install Rust from https://rustup.rs (or your package manager), open a new shell and run this again,
  or leave out --from-source to download the prebuilt binary"
    fi
    # --force: reinstall even when the version number is unchanged (the source may not be).
    if in_source_tree; then
        say "Building mcpgw from $src with cargo (a release build takes a few minutes)..."
        cargo install --path "$src" --locked --force --root "$prefix"
        man_src="$src/man"
    else
        say "Building mcpgw ${version:-(latest)} from crates.io with cargo (a release build takes a few minutes)..."
        if [ -n "$version" ]; then
            cargo install mcpgw --locked --force --root "$prefix" --version "$version"
        else
            cargo install mcpgw --locked --force --root "$prefix"
        fi
        say "(Man pages come with the prebuilt archives and source checkouts, not with crates.io builds.)"
    fi
    ;;
download)
    command -v tar >/dev/null 2>&1 || die "tar was not found: install it and run this again"
    if ! command -v sha256sum >/dev/null 2>&1 && ! command -v shasum >/dev/null 2>&1; then
        die "neither sha256sum nor shasum was found to verify the download: install coreutils (or perl's shasum) and run this again"
    fi
    make_tmp
    base="${MCPGW_INSTALL_BASE_URL:-$DEFAULT_BASE_URL}"
    base="${base%/}"
    if [ -z "$version" ]; then
        if [ "$base" = "$DEFAULT_BASE_URL" ]; then
            latest_url="$DEFAULT_LATEST_URL"
        else
            latest_url="$base/latest.txt"
        fi
        fetch "$latest_url" "$tmp/latest.txt"
        version="$(tr -d ' \t\r\n' <"$tmp/latest.txt")"
        version="${version#v}"
        case "$version" in
            [0-9]*.[0-9]*.[0-9]*) ;;
            *) die "$latest_url does not hold a version number (got '$version'); pin one with --version X" ;;
        esac
        case "$version" in
            *[!0-9A-Za-z.+-]*) die "$latest_url does not hold a version number; pin one with --version X" ;;
        esac
    fi
    name="mcpgw-$version-$triple"
    archive="$name.tar.gz"
    say "Downloading mcpgw $version for $triple from $base/v$version/"
    fetch "$base/v$version/SHA256SUMS" "$tmp/SHA256SUMS"
    expected="$(awk -v f="$archive" '$2 == f || $2 == ("*" f) { print $1; exit }' "$tmp/SHA256SUMS" | tr 'A-F' 'a-f')"
    if [ -z "$expected" ]; then
        die "SHA256SUMS of v$version has no entry for $archive, so it cannot be verified: nothing was installed.
  If this release has no archive for $triple, build from source: sh install.sh --from-source"
    fi
    fetch "$base/v$version/$archive" "$tmp/$archive"
    actual="$(sha256_of "$tmp/$archive")"
    if [ "$actual" != "$expected" ]; then
        die "checksum mismatch for $archive: SHA256SUMS says $expected, the download is $actual.
  The download is corrupt or was tampered with: nothing was installed. Try again, or check MCPGW_INSTALL_BASE_URL."
    fi
    say "Verified $archive (sha256 $actual)"
    mkdir "$tmp/unpacked"
    tar -xzf "$tmp/$archive" -C "$tmp/unpacked" || die "could not unpack $archive: nothing was installed"
    pkg="$tmp/unpacked/$name"
    [ -f "$pkg/mcpgw" ] || die "$archive has no $name/mcpgw: nothing was installed"
    "$pkg/mcpgw" --version >/dev/null 2>&1 ||
        die "the downloaded mcpgw does not run on this machine ($triple): nothing was installed. Try: sh install.sh --from-source"
    put "$pkg/mcpgw" "$dest" 755
    say "Installed mcpgw $version as $dest"
    [ ! -d "$pkg/man" ] || man_src="$pkg/man"
    ;;
esac

"$dest" --version >/dev/null 2>&1 || die "the installed $dest does not run"

# ---- completions and man pages -------------------------------------------------

data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
config_home="${XDG_CONFIG_HOME:-$HOME/.config}"
make_tmp

completion() {
    # $1 shell, $2 destination
    "$dest" completions "$1" >"$tmp/completion" || die "mcpgw completions $1 failed"
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

if [ -n "$man_src" ]; then
    for page in "$man_src"/*.1; do
        [ -f "$page" ] || continue
        put "$page" "$prefix/share/man/man1/$(basename "$page")" 644
    done
    say "Installed man pages: $prefix/share/man/man1 (man mcpgw)"
fi

# ---- next steps ------------------------------------------------------------------

say ""
say "mcpgw $("$dest" --version | sed 's/^mcpgw //') is installed at $dest"
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
