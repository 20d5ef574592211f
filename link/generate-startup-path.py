#!/usr/bin/env python3
"""Writes link/startup-path.ld: the code a relay runs from spawn to idle, to be
placed together by the linker (see build.rs for why and when it is used).

    CARGO_PROFILE_RELEASE_STRIP=false cargo build --release --locked --target-dir target/symbols
    python3 link/generate-startup-path.py target/symbols/release/mcpgw

Needs valgrind, nm and openssl. The binary runs under callgrind three times, each
until it is idle after `initialize`: relaying to a plain-http stand-in, and to one
over TLS with an RSA and with an ECDSA certificate (which reads the system CA store
and makes a handshake). Every function that ran and is in the binary becomes one
input-section pattern (ring's assembly has no section per function and stays
where it is). Symbol hashes change with every version and dependency bump, so
they are replaced by `*`: a pattern then also matches the other instances of a
generic function, and it outlives the next release. Regenerate when the
benchmark's idle RSS creeps up.
"""

import http.server
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "startup-path.ld")
INITIALIZE = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":'
    b'"2025-06-18","capabilities":{},"clientInfo":{"name":"startup-path","version":"1"}}}\n'
)
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'


class StandIn(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        if "id" not in body:
            self.send_response(202)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "stand-in", "version": "1"}}
        out = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("mcp-session-id", "startup-path")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        self.send_response(405)
        self.send_header("content-length", "0")
        self.end_headers()


def serve(tls_dir=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    if tls_dir:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem"))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def functions_run(binary, url, extra, out):
    args = ["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
            binary, url, *extra]
    relay = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL,
                             env=dict(os.environ, MCPGW_BEARER_TOKEN="startup-path"))
    relay.stdin.write(INITIALIZE)
    relay.stdin.flush()
    if b'"result"' not in relay.stdout.readline():
        sys.exit(f"the relay to {url} did not answer initialize (is the binary built from this checkout?)")
    relay.stdin.write(INITIALIZED)
    relay.stdin.flush()
    time.sleep(2)  # idle: what runs now is what a waiting relay runs
    relay.stdin.close()
    relay.wait()
    names = []
    for line in open(out):
        match = re.match(r"c?fn=\(\d+\) (\S+)", line)
        if match:
            names.append(match.group(1))
    return names


def pattern(symbol):
    legacy = re.fullmatch(r"(_ZN.*17h)[0-9a-f]{16}E(\.\d+)?", symbol)
    if legacy:  # the hash, and the number LTO appends to a local copy
        return legacy.group(1) + "*E*"
    if symbol.startswith("_R"):  # v0 (std): the crate hashes
        return re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", symbol)
    return symbol


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    defined = set()
    for line in subprocess.run(["nm", "--defined-only", binary], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "tTwW":
            defined.add(fields[2])
    if len(defined) < 1000:
        sys.exit(f"{binary} has no symbols: build it with CARGO_PROFILE_RELEASE_STRIP=false")
    with tempfile.TemporaryDirectory() as tmp:
        http_port = serve()
        names = functions_run(binary, f"http://127.0.0.1:{http_port}/mcp", [], f"{tmp}/http.out")
        # Servers sign with RSA or ECDSA keys: the handshake runs different code for each.
        for key in (["rsa:2048"], ["ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]):
            subprocess.run(["openssl", "req", "-x509", "-newkey", *key, "-nodes", "-days", "1",
                            "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                            "-addext", "basicConstraints=critical,CA:FALSE"],
                           check=True, capture_output=True)
            tls_port = serve(tmp)
            names += functions_run(binary, f"https://localhost:{tls_port}/mcp",
                                   ["--ca-cert", f"{tmp}/cert.pem"], f"{tmp}/tls.out")
    patterns = list(dict.fromkeys(pattern(n) for n in names if n in defined))
    with open(OUT, "w") as out:
        out.write("/* Generated by link/generate-startup-path.py; build.rs says why. */\n")
        out.write("SECTIONS {\n  .text.startup_path : {\n")
        # LLVM puts the functions it deems cold in .text.unlikely.<symbol>.
        out.writelines(f"    *(.text.{p} .text.unlikely.{p})\n" for p in patterns)
        out.write("  }\n} INSERT BEFORE .text;\n")
    print(f"{OUT}: {len(patterns)} patterns from {len(set(names))} functions run")


if __name__ == "__main__":
    main()
