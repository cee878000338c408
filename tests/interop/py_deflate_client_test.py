"""permessage-deflate (RFC 7692) with Python `websockets` clients against a
ws6455 echo server started with --deflate.

    /usr/bin/python3 py_deflate_client_test.py ws://127.0.0.1:PORT/ [takeover]

`takeover`: the server was started with --deflate-server-takeover
--deflate-client-takeover; without it, the server's defaults (no context
takeover either way, required of the client too).

For websockets' default client (compression on, as it is by default:
"permessage-deflate; client_max_window_bits") and four parameter sets, the
handshake must agree on permessage-deflate with the parameters asked for, and
a workload must round-trip byte for byte: short text (the server sends
messages under its 64-byte minimum uncompressed), 20 chat messages, text and
binary over 64 KiB, incompressible binary, empty messages, and fragmented
messages (websockets sends an iterable as fragments, each compressed). A
1 MiB compressible message must cross the socket compressed both ways.
"""
import asyncio
import json
import os
import sys

import websockets
import websockets.client
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

URL = sys.argv[1]
TAKEOVER = sys.argv[2:] == ["takeover"]
failures = 0


def check(name, ok, detail=""):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + str(detail)}", flush=True)
    if not ok:
        failures += 1


class Counting(websockets.client.WebSocketClientProtocol):
    """Counts the bytes read from and written to the socket."""

    bytes_in = 0
    bytes_out = 0

    def data_received(self, data):
        self.bytes_in += len(data)
        super().data_received(data)

    def connection_made(self, transport):
        write = transport.write

        def counted(data):
            self.bytes_out += len(data)
            write(data)

        transport.write = counted
        super().connection_made(transport)


def chat_message(i):
    words = ["deploy", "tonight", "lunch", "the", "server", "is", "green", "review", "coffee", "thanks"]
    text = " ".join(words[(i * 31 + k * 17) % len(words)] for k in range(5 + (i * 7) % 25))
    return json.dumps({"type": "message", "id": 100000 + i, "room": "general", "user": "bob",
                       "text": text, "ts": 1700000000000 + i})


async def echo(ws, name, data):
    await ws.send(data)
    got = await asyncio.wait_for(ws.recv(), 10)
    check(name, got == data and type(got) is type(data), f"{type(got).__name__} of {len(got)}")


async def workload(ws, label):
    await echo(ws, f"{label}: short text (sent back uncompressed)", "hello ünïcödé ✓")
    ok = True
    for i in range(20):
        msg = chat_message(i)
        await ws.send(msg)
        ok = ok and await asyncio.wait_for(ws.recv(), 10) == msg
    check(f"{label}: 20 chat messages in a row", ok)
    text = "Lorem ipsum dolor sit amet, ünïcödé ✓ 𝄞, " * 2500
    await echo(ws, f"{label}: text of {len(text.encode())} bytes", text)
    await echo(ws, f"{label}: random binary of 100000 bytes", os.urandom(100000))
    await echo(ws, f"{label}: empty text", "")
    await echo(ws, f"{label}: empty binary", b"")
    parts = ["frag-", "€" + "fragment " * 8000, "-end"]
    await ws.send(iter(parts))
    got = await asyncio.wait_for(ws.recv(), 10)
    check(f"{label}: fragmented text (3 frames)", got == "".join(parts), len(got))
    parts = [bytes(range(256)) * 200, b"", b"\x00" * 50000]
    await ws.send(iter(parts))
    got = await asyncio.wait_for(ws.recv(), 10)
    check(f"{label}: fragmented binary (3 frames, one empty)", got == b"".join(parts), len(got))
    blob = bytes((i % 97) ^ ((i >> 12) & 7) for i in range(1 << 20))
    proto = ws
    r0, w0 = proto.bytes_in, proto.bytes_out
    await ws.send(blob)
    got = await asyncio.wait_for(ws.recv(), 10)
    rd, wr = proto.bytes_in - r0, proto.bytes_out - w0
    check(f"{label}: 1 MiB binary, compressed both ways (sent {wr} bytes, received {rd})",
          got == blob and rd < len(blob) / 10 and wr < len(blob) / 10, f"sent {wr}, received {rd}")


def expect(server_nct=False, client_nct=False, server_bits=15, client_bits=15):
    """The agreement: what the client asked for, plus what the server imposes
    with its defaults (no context takeover either way)."""
    return dict(server_nct=server_nct or not TAKEOVER, client_nct=client_nct or not TAKEOVER,
                server_bits=server_bits, client_bits=client_bits)


SETS = [
    # (label, extensions argument or None for websockets' default, expected agreement)
    ("default", None, expect()),
    ("server_no_context_takeover",
     ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_max_window_bits=True),
     expect(server_nct=True)),
    ("client_no_context_takeover",
     ClientPerMessageDeflateFactory(client_no_context_takeover=True, client_max_window_bits=True),
     expect(client_nct=True)),
    ("server_max_window_bits=10",
     ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=True),
     expect(server_bits=10)),
    ("client_max_window_bits=10",
     ClientPerMessageDeflateFactory(client_max_window_bits=10),
     expect(client_bits=10)),
]


def agreed(ws):
    """What websockets agreed to, in the server's terms."""
    if len(ws.extensions) != 1 or ws.extensions[0].name != "permessage-deflate":
        return None
    e = ws.extensions[0]  # client side: local = client, remote = server
    return dict(server_nct=e.remote_no_context_takeover, client_nct=e.local_no_context_takeover,
                server_bits=e.remote_max_window_bits or 15, client_bits=e.local_max_window_bits or 15)


async def main():
    for label, factory, want in SETS:
        kwargs = {"compression": "deflate"} if factory is None else {"compression": None,
                                                                      "extensions": [factory]}
        try:
            ws = await asyncio.wait_for(websockets.connect(URL, max_size=None, create_protocol=Counting,
                                                           **kwargs), 10)
        except Exception as e:  # noqa: BLE001 - reported as a failure
            check(f"{label}: handshake", False, repr(e))
            continue
        got = agreed(ws)
        header = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check(f"{label}: negotiated '{header}'", got == want, f"want {want}, got {got}")
        try:
            await workload(ws, label)
        except Exception as e:  # noqa: BLE001
            check(f"{label}: workload finished", False, repr(e))
        await ws.close(1000, "python deflate bye")
        check(f"{label}: clean close 1000", ws.close_code == 1000, ws.close_code)
    print("all checks passed" if not failures else f"{failures} check(s) failed")
    sys.exit(1 if failures else 0)


asyncio.run(main())
