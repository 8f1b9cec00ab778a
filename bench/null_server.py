#!/usr/bin/env python3
"""A language server that does nothing: the transport floor of a harness.

    crates/lsp/examples/latency.rs bench/null_server.py FILE 0

It answers `initialize`, and publishes empty diagnostics for each
`textDocument/didOpen` and `didChange` as soon as the whole message has
arrived (of a large message it reads only the method, the URI and the
version, without decoding the text), then `shutdown` and `exit`. A harness
that times didOpen → diagnostics against it measures its own work: building
and encoding the notification, the pipe both ways, and reading the answer.
`bench/compare.sh` prints that beside tokenguard's didOpen, which pays it too.
Arguments are ignored (the harness passes `server --log-level ...`).
"""

import json
import os
import re
import sys

IN = sys.stdin.fileno()
OUT = sys.stdout.fileno()
SMALL = 1 << 16


def send(message):
    body = json.dumps(message).encode()
    data = b"Content-Length: %d\r\n\r\n" % len(body) + body
    while data:
        data = data[os.write(OUT, data):]


class Reader:
    def __init__(self):
        self.buffer = b""

    def fill(self):
        chunk = os.read(IN, 1 << 20)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def message(self):
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self.fill()
        length = 0
        for line in self.buffer[:end].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        start = end + 4
        have = self.buffer[start:start + length]
        rest = self.buffer[start + length:]
        if len(have) == length:
            self.buffer = rest
            return have
        # A large body: read the rest of it in place, in one buffer.
        body = bytearray(length)
        view = memoryview(body)
        view[:len(have)] = have
        filled = len(have)
        while filled < length:
            n = os.readv(IN, [view[filled:]])
            if n == 0:
                raise EOFError
            filled += n
        self.buffer = b""
        return body


def fields(body):
    """(method, id, uri, version) of a message; large ones are not decoded:
    inside a JSON string every quote is escaped, so a `"key":` found outside
    the text is the message's own."""
    if len(body) < SMALL:
        m = json.loads(body)
        doc = (m.get("params") or {}).get("textDocument") or {}
        return m.get("method"), m.get("id"), doc.get("uri"), doc.get("version")
    head = bytes(body[:SMALL]).decode("utf-8", "replace")
    tail = bytes(body[-SMALL:]).decode("utf-8", "replace")

    def find(pattern):
        for part in (head, tail):
            if found := re.search(pattern, part):
                return found.group(1)
        return None

    version = find(r'"version"\s*:\s*(\d+)')
    return (find(r'"method"\s*:\s*"([^"]*)"'), None, find(r'"uri"\s*:\s*"([^"]*)"'),
            int(version) if version else None)


def main():
    reader = Reader()
    try:
        while True:
            method, ident, uri, version = fields(reader.message())
            if method == "initialize":
                send({"jsonrpc": "2.0", "id": ident, "result": {"capabilities": {"textDocumentSync": 2}}})
            elif method == "shutdown":
                send({"jsonrpc": "2.0", "id": ident, "result": None})
            elif method == "exit":
                return 0
            elif method in ("textDocument/didOpen", "textDocument/didChange"):
                send({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
                      "params": {"uri": uri, "version": version, "diagnostics": []}})
            elif ident is not None:
                send({"jsonrpc": "2.0", "id": ident, "result": None})
    except EOFError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
