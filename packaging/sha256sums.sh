#!/bin/sh
# Writes DIR/SHA256SUMS (sha256sum format: "<hex>  <file name>") for every release
# archive in DIR, sorted by name. Used by the release workflow and by the tests.
#
#   packaging/sha256sums.sh DIR
set -eu

[ $# -eq 1 ] || { echo "usage: packaging/sha256sums.sh DIR" >&2; exit 1; }
cd "$1"
set --
for f in mcpgw-*.tar.gz mcpgw-*.zip; do
    [ -f "$f" ] && set -- "$@" "$f"
done
[ $# -gt 0 ] || { echo "sha256sums.sh: no mcpgw-*.tar.gz or mcpgw-*.zip in $(pwd)" >&2; exit 1; }
if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$@" >SHA256SUMS.tmp
else
    shasum -a 256 "$@" >SHA256SUMS.tmp
fi
sort -k 2 SHA256SUMS.tmp >SHA256SUMS
rm -f SHA256SUMS.tmp
cat SHA256SUMS
