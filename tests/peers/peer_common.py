"""Helpers shared by the Python peers (server and client must agree on these)."""

from __future__ import annotations

# Text that must cross mcpgw byte for byte: accents, CJK, an emoji (a surrogate pair
# in JSON escapes), U+2028 (a line separator in JS), quotes, a backslash, an escaped
# newline and a NUL escape.
NON_ASCII = 'héllo wörld — 你好 🌍 \u2028 "quoted" back\\slash\nnew line\ttab \u0000 end'


def big_text(size: int) -> str:
    """`size` characters of numbered records with a two-byte letter in each, so lost,
    doubled or reordered chunks and split UTF-8 sequences all show."""
    record = 10  # "%07d" + "é" + ","
    return "".join(f"{i:07d}é," for i in range(size // record + 1))[:size]
