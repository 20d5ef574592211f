#!/bin/sh
# Builds one release archive of mcpgw, the layout the release workflow publishes and
# install.sh, install.ps1 and cargo-binstall expect:
#
#   packaging/archive.sh TARGET VERSION BINARY OUTDIR
#
#   OUTDIR/mcpgw-VERSION-TARGET.tar.gz   (.zip when TARGET is a Windows triple)
#     mcpgw-VERSION-TARGET/
#       mcpgw (mcpgw.exe)   the BINARY given
#       completions/        bash, zsh, fish, PowerShell, elvish (from completions/)
#       man/                the man pages (from man/)
#       README.md LICENSE-MIT LICENSE-APACHE
#
# Prints the archive's path. ARCHIVE_GZIP_LEVEL (1-9, default 9) trades size for
# time (the tests use 1 on their large debug binary). The same script runs in .github/workflows/release.yml
# and in tests/cases/install.rs, so the tested layout is the released one.
set -eu

die() {
    printf 'archive.sh: error: %s\n' "$1" >&2
    exit 1
}

[ $# -eq 4 ] || die "usage: packaging/archive.sh TARGET VERSION BINARY OUTDIR"
target=$1
version=${2#v}
binary=$3
outdir=$4

case "$target" in
    *[!A-Za-z0-9_.-]* | "") die "bad target triple '$target'" ;;
esac
case "$version" in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) die "bad version '$version' (want e.g. 0.1.0)" ;;
esac
[ -f "$binary" ] || die "binary '$binary' not found"

root=$(cd "$(dirname "$0")/.." && pwd)
name="mcpgw-$version-$target"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
trap 'exit 1' INT TERM HUP

dir="$stage/$name"
mkdir -p "$dir/completions" "$dir/man"
case "$target" in
    *windows*) exe=mcpgw.exe ;;
    *) exe=mcpgw ;;
esac
cp "$binary" "$dir/$exe"
chmod 755 "$dir/$exe"
for f in "$root"/completions/*; do
    cp "$f" "$dir/completions/"
done
for f in "$root"/man/*.1; do
    cp "$f" "$dir/man/"
done
for f in README.md LICENSE-MIT LICENSE-APACHE; do
    [ -f "$root/$f" ] || die "$f is missing from the source tree"
    cp "$root/$f" "$dir/$f"
done
find "$dir" -type f ! -name "$exe" -exec chmod 644 {} +

case "$target" in
    *windows*)
        archive="$outdir/$name.zip"
        rm -f "$archive"
        if command -v zip >/dev/null 2>&1; then
            (cd "$stage" && zip -qr -X "$archive" "$name")
        elif command -v 7z >/dev/null 2>&1; then
            (cd "$stage" && 7z a -tzip -bd "$archive" "$name" >/dev/null)
        elif command -v python3 >/dev/null 2>&1; then
            (cd "$stage" && python3 -m zipfile -c "$archive" "$name")
        elif command -v python >/dev/null 2>&1; then
            (cd "$stage" && python -m zipfile -c "$archive" "$name")
        else
            die "no zip, 7z or python found to build $name.zip: install one of them"
        fi
        ;;
    *)
        archive="$outdir/$name.tar.gz"
        level=${ARCHIVE_GZIP_LEVEL:-9}
        case "$level" in [1-9]) ;; *) die "ARCHIVE_GZIP_LEVEL must be 1-9" ;; esac
        # Stable metadata so the same inputs give the same archive where tar allows it.
        if tar --version 2>/dev/null | grep -q 'GNU tar'; then
            (cd "$stage" && tar --sort=name --owner=0 --group=0 --numeric-owner \
                --mtime='1980-01-01 00:00:00Z' -cf - "$name") | gzip -n "-$level" >"$archive.tmp"
        else
            (cd "$stage" && tar -cf - "$name") | gzip -n "-$level" >"$archive.tmp"
        fi
        mv -f "$archive.tmp" "$archive"
        ;;
esac
printf '%s\n' "$archive"
