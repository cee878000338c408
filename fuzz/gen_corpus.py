#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/ from the recorded
conversations in fuzz/captures/ plus synthesized inputs. Files are named by
the SHA-1 of their content (as `sha1sum` prints it), so re-running is
idempotent and duplicates collapse. Usage: python3 fuzz/gen_corpus.py

Each target reads a few control bytes before its data; the layouts are
documented at the top of fuzz/fuzz_<target>.c and fuzz/conn_driver.h."""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CAP = os.path.join(HERE, "captures")
OUT = os.path.join(HERE, "corpus")
CLIENTS = ["python-websockets", "node-ws", "chromium", "firefox"]


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(op, payload=b"", fin=True, mask=None, rsv=0, form=None):
    """A frame built by hand (independently of the library)."""
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    mbit = 0x80 if mask is not None else 0
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        h = bytes([b0, mbit | n])
    elif form == 16:
        h = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask is not None:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        h += bytes(mask)
    return h + payload


def split_head(data):
    i = data.find(b"\r\n\r\n")
    return (data, b"") if i < 0 else (data[: i + 4], data[i + 4 :])


def read(name):
    with open(os.path.join(CAP, name), "rb") as f:
        return f.read()


K = [0x37, 0xFA, 0x21, 0x3D]  # RFC 6455's example key

# Synthesized client->server frames (masked) and server->client (unmasked).
def synth_frames(mask):
    m = mask
    return [
        frame(1, b"Hello", mask=m),
        frame(1, b"Hel", fin=False, mask=m) + frame(0, b"lo", mask=m),
        frame(9, b"Hello", mask=m) + frame(10, b"Hello", mask=m),
        frame(2, bytes(256), mask=m),
        frame(2, bytes(65536), mask=m),
        frame(1, "h\u00e9".encode(), fin=False, mask=m) + frame(9, b"mid", mask=m)
        + frame(0, "llo \U0001F600".encode(), mask=m),
        frame(8, struct.pack(">H", 1000) + b"bye", mask=m),
        frame(8, b"", mask=m),
        frame(8, struct.pack(">H", 1005), mask=m),  # invalid on the wire
        frame(8, b"\x03", mask=m),  # 1-byte close payload
        frame(8, struct.pack(">H", 4000) + b"\xff", mask=m),  # bad reason
        frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80", mask=m),
        frame(1, b"\xf4\x90\x80\x80", mask=m),
        frame(1, b"abc", mask=m, rsv=0x40),
        frame(3, b"", mask=m),
        frame(9, b"", fin=False, mask=m),
        frame(9, bytes(126), mask=m, form=16),
        frame(1, b"short", mask=m, form=16),
        frame(1, b"short", mask=m, form=64),
        frame(0, b"cont", mask=m),
        frame(1, b"a", fin=False, mask=m) + frame(1, b"b", mask=m),
        frame(2, b"", fin=False, mask=m) + frame(0, b"", fin=False, mask=m) * 20
        + frame(0, b"end", mask=m),
        bytes([0x82, (0x80 if m else 0) | 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        + bytes(m or b""),
        bytes([0x82, (0x80 if m else 0) | 127, 0x80, 0, 0, 0, 0, 0, 0, 1]) + bytes(m or b""),
        frame(9, b"p" * 125, mask=m) * 30,
        frame(1, b"x" * 1001, mask=m),
        frame(1, b"Hello", mask=None if m else K),  # wrong masking for the role
    ]


REQUEST = (b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n")
# The answer to the fuzz drivers' deterministic key (random bytes 00..0f).
RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: Bz3qJYTGdOe8gUSpLosEdiLKDrk=\r\n"
            b"Sec-WebSocket-Protocol: chat\r\n\r\n")

BAD_REQUESTS = [
    REQUEST.replace(b"GET", b"POST"),
    REQUEST.replace(b"HTTP/1.1", b"HTTP/1.0"),
    REQUEST.replace(b"Host: example.com\r\n", b""),
    REQUEST.replace(b"Host: example.com\r\n", b"Host: a\r\nHost: b\r\n"),
    REQUEST.replace(b"websocket", b"h2c"),
    REQUEST.replace(b"Connection: Upgrade", b"Connection: keep-alive, Upgrade"),
    REQUEST.replace(b"Connection: Upgrade", b"Connection: close"),
    REQUEST.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"dGhlIHNhbXBsZSBub25jZQ"),
    REQUEST.replace(b"Version: 13", b"Version: 8"),
    REQUEST.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\nhello"),
    REQUEST.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\n\r\n"),
    REQUEST.replace(b"\r\n", b"\n"),
    REQUEST.replace(b"Host:", b"Host :"),
    REQUEST.replace(b"\r\n\r\n", b"\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n"),
    REQUEST.replace(b"\r\n\r\n", b"\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(70)) + b"\r\n"),
    REQUEST.replace(b"\r\n\r\n", b"\r\nX-Fold: a\r\n b\r\n\r\n"),
    REQUEST.replace(b"Sec-WebSocket-Protocol: chat, superchat",
                    b"Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: superchat"),
    REQUEST.replace(b"Sec-WebSocket-Protocol: chat, superchat",
                    b"Sec-WebSocket-Protocol: ch@t, ,superchat"),
    REQUEST.replace(b"/chat", b"http://example.com/chat"),
    REQUEST.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; "
                    b"client_max_window_bits, x-webkit-deflate-frame\r\n\r\n"),
    b"\r\n" + REQUEST,
]

BAD_RESPONSES = [
    RESPONSE.replace(b"101 Switching Protocols", b"301 Moved Permanently\r\nLocation: ws://elsewhere/"),
    RESPONSE.replace(b"101 Switching Protocols", b"401 Unauthorized")
    + b"WWW-Authenticate: Basic\r\n\r\n",
    RESPONSE.replace(b"Bz3qJYTGdOe8gUSpLosEdiLKDrk=", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    RESPONSE.replace(b"chat\r\n", b"other\r\n"),
    RESPONSE.replace(b"chat\r\n", b"superchat\r\n"),
    RESPONSE.replace(b"Sec-WebSocket-Protocol: chat\r\n", b""),
    RESPONSE.replace(b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
    RESPONSE.replace(b"Upgrade: websocket\r\n", b""),
    RESPONSE.replace(b"Connection: Upgrade", b"Connection: upgrade"),
    RESPONSE.replace(b"HTTP/1.1", b"HTTP/1.0"),
    RESPONSE.replace(b"\r\n", b"\n"),
    RESPONSE.replace(b"\r\n\r\n", b"\r\nSet-Cookie: a=b\r\nSet-Cookie: c=d\r\n\r\n"),
]


def conn_input(b0, peer, b1=0, b2=0, b3=0, b4=0, script=b""):
    return bytes([b0, b1, b2, b3, b4, len(script)]) + script + peer


def conn_variants(peer, hs_bits):
    """Several configurations and feeding scripts over the same peer bytes."""
    out = [conn_input(hs_bits, peer)]
    # One byte at a time for short inputs, else chunks of 37*k bytes, with
    # partial drains, API calls and ticks interleaved.
    out.append(conn_input(hs_bits | 0x02, peer, b3=0x13,
                          script=bytes([0x00 if len(peer) < 2000 else 0x09, 0x0B, 0x24, 0x05])))
    out.append(conn_input(hs_bits | 0x01 | 0x08, peer, b2=0x08, b3=0x07,
                          script=bytes([0x21, 0x13, 0x0C, 0x3D, 0x1E])))
    # Small limits: 1009s, backpressure, tiny handshake limits.
    out.append(conn_input(hs_bits | 0x40, peer, b1=0x2D, b2=0x03, script=bytes([0x51, 0x0E])))
    out.append(conn_input(hs_bits | 0x40 | 0x04, peer, b1=0xC4, b2=0x15, b3=0x21,
                          script=bytes([0x01, 0x1C, 0x2C, 0x34])))
    if len(peer) > 4096:
        # Big conversations: the three plainest variants whole, the rest on
        # their first 2 KiB (keeps the corpus small and the fuzzer fast).
        return out[:2] + out[3:4] + conn_variants(peer[:2048], hs_bits)
    # Failing allocations.
    for n in (1, 2, 3, 5, 8):
        out.append(conn_input(hs_bits | 0x80, peer, b4=n))
    return out


def deflate_seeds(add):
    """fuzz_deflate_negotiate: options bytes, response size, then a
    Sec-WebSocket-Extensions value. fuzz_inflate: control bytes (see its
    header), then compressed messages or, in round-trip mode, plaintext."""
    import zlib
    values = [b"permessage-deflate; client_max_window_bits", b"permessage-deflate",
              b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
              b"permessage-deflate; client_max_window_bits; server_max_window_bits=10, "
              b"permessage-deflate; client_max_window_bits",
              b"permessage-deflate; server_max_window_bits=8; client_max_window_bits=\"9\"",
              b"x-webkit-deflate-frame, permessage-deflate; foo, permessage-deflate",
              b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
              b"foo; x=\", permessage-deflate, \\\"\", permessage-deflate; client_max_window_bits=15",
              b"permessage-deflate; client_max_window_bits=\"1\\0\"", b"", b" , ,"]
    for i, v in enumerate(values):
        add("deflate_negotiate", bytes([0x03, 0xFF, 0]) + v)
        add("deflate_negotiate", bytes([(i * 37) & 0xFF, (i * 91) & 0xFF, 40 + i]) + v)
    # Messages: (window bits - 8) | nct << 3 | limit << 5, fail, level/mem,
    # piece count, pieces (bit 7 ends a message), data.
    rfc = [bytes.fromhex(h) for h in (
        "f248cdc9c90700", "f200110000", "000500faff48656c6c6f00", "f348cdc9c9070000",
        "f24805000000ffffcac9c90700", "00", "0300", "f348cdc9c90700f200110000")]
    for m in rfc:
        add("inflate", bytes([0x07, 0, 0, 1, 0x80 | (len(m) - 1)]) + m)
        add("inflate", bytes([0x0F, 0, 0, 3, 0, 1, 0x82]) + m)
    # Context takeover: the two "Hello" messages of 7.2.3.2 back to back.
    add("inflate", bytes([0x07, 0, 0, 2, 0x86, 0x84]) + rfc[0] + rfc[1])
    # A bomb: 1 MiB of zeros, under limits of 1, 100 and 64 KiB, in pieces.
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    bomb = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)
    bomb = bomb[:-4]
    for lim in (1, 2, 4):
        add("inflate", bytes([0x0F | (lim << 5), 0, 0, 1, 0x7F]) + bomb)
    # Final blocks followed by more blocks, some starting mid-byte.
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    mid = c.compress(b"He") + c.flush(zlib.Z_BLOCK) + c.compress(b"llo") + c.flush(zlib.Z_FINISH)
    add("inflate", bytes([0x07, 0, 0, 0]) + mid + b"\x00")
    add("inflate", bytes([0x07, 0, 0, 0]) + b"\x03\x00" * 50 + mid)
    # Allocation failures.
    for fail in (1, 2, 3, 4):
        add("inflate", bytes([0x07, fail, 0, 0]) + rfc[0])
        add("inflate", bytes([0x17, fail, 0x86, 2, 0x45, 0x90]) + b"Hello, Hello, Hello" * 5)
    # Round trips: text and binary, with flushes and several messages.
    text = b'{"type":"message","user":"alice","text":"hello there","room":42}' * 8
    add("inflate", bytes([0x17, 0, 0x86, 3, 0x10, 0x50, 0xBF]) + text)
    add("inflate", bytes([0x10, 0, 0x0A, 2, 0x03, 0x81]) + bytes(range(256)) * 2)
    add("inflate", bytes([0x1F, 0, 0x19, 1, 0xC0]) + text + bytes(300))


def main():
    targets = {}

    def add(t, data):
        targets.setdefault(t, []).append(data)

    for name in CLIENTS:
        c2s, s2c = read(name + ".c2s"), read(name + ".s2c")
        req, c_frames = split_head(c2s)
        resp, s_frames = split_head(s2c)
        # Whole conversations: the server sees the browser's request and
        # frames; the client sees our canned response (its accept matches
        # the fuzz driver's key) followed by the real server's frames.
        for v in conn_variants(c2s, 0x20):
            add("conn_server", v)
        for v in conn_variants(c_frames, 0x00):
            add("conn_server", v)
        for v in conn_variants(s_frames, 0x10):
            add("conn_client", v)
        add("conn_client", conn_input(0x20, RESPONSE + s_frames))
        add("conn_client", conn_input(0x20, resp + s_frames))  # wrong accept: fails
        add("handshake_server", bytes([0, 0]) + req)
        add("handshake_server", bytes([0x30, 0, 3, 16, 100]) + c2s[:4096])
        add("handshake_server", bytes([0x05, 3]) + req)
        add("handshake_client", bytes([0, 0]) + resp)
        add("frame_header", bytes([0x00, 0]) + c_frames[:8192])
        add("frame_header", bytes([0x01, 3, 0, 1, 7]) + s_frames[:8192])
        # Text payloads of the conversations, for the UTF-8 target.
        add("utf8", bytes([0]) + "h\u00e9llo \U0001F600".encode() * 20)
        add("utf8", bytes([0x33, 1, 2, 3]) + "\u00e9\u20ac\U0001F600".encode() * 40)
        # The same frames unmasked in pieces, for the mask target.
        add("mask", bytes(K) + struct.pack(">Q", 3) + bytes([0x35, 0x07, 0, 7, 0, 13, 0, 64])
            + c_frames[:4096])

    add("conn_server", conn_input(0x10, b""))
    add("conn_client", conn_input(0x10, b""))
    # Frames a server receives are masked (key K), a client's are not; the
    # frame_header target's first byte picks the role the same way.
    for target, key, role_bit in (("conn_server", K, 0x00), ("conn_client", None, 0x01)):
        for i, f in enumerate(synth_frames(key)):
            add(target, conn_input(0x00, f))
            add(target, conn_input(0x10 | (i & 0x0F), f, b3=i * 37 & 0xFF,
                                   script=bytes([0x00, 0x0B, i * 8 + 4 & 0xFF])))
            add(target, conn_input(0x40 | (i & 0x07), f, b1=i * 9 & 0xFF, b2=i & 7))
            add("frame_header", bytes([role_bit, 1, 2]) + f)
    # Ping flood with no reads, keepalive timeouts, free from a callback.
    flood = frame(9, b"x" * 125, mask=K) * 200
    add("conn_server", conn_input(0x40, flood, b2=0x02, script=bytes([0x02 | 0x50])))
    add("conn_server", conn_input(0x10, frame(1, b"hi", mask=K) * 5, b2=0x48, b3=0x20,
                                  script=bytes([0x00, 0x2D, 0x35, 0x3D])))
    for r in [REQUEST] + BAD_REQUESTS:
        add("handshake_server", bytes([0, 0]) + r)
        add("handshake_server", bytes([0x21, 0, 4, 9]) + r)
        add("conn_server", conn_input(0x20, r + frame(1, b"Hello", mask=K), b2=0x10, b3=0x80))
    for r in [RESPONSE] + BAD_RESPONSES:
        add("handshake_client", bytes([0, 0]) + r)
        add("handshake_client", bytes([0x21, 0, 4, 9]) + r)
        add("conn_client", conn_input(0x20, r + frame(1, b"Hello")))

    utf8 = [b"", b"plain ascii", "\u00e9\u20ac\U0001F600\U0010FFFF".encode(), b"\xc0\x80",
            b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xed\x9f\xbf", b"\xf4\x90\x80\x80",
            b"\xf4\x8f\xbf\xbf", b"\xf0\x80\x80\x80", b"\xf5", b"\xff", b"\x80", b"\xe2\x82",
            b"a" * 100 + b"\xe2\x82\xac" * 30 + b"\xc3", b"a" * 64 + b"\xf0\x9f" + b"a" * 64]
    for i, t in enumerate(utf8):
        add("utf8", bytes([i & 15]) + t)
        add("utf8", bytes([0x20 | (i & 15), 1, 2]) + t)

    for i, (key, off) in enumerate([(K, 0), ((1, 2, 3, 4), 1), ((0, 0, 0, 0), 2),
                                    ((255, 0, 255, 0), (1 << 64) - 1)]):
        data = bytes(range(256)) * (i + 1)
        add("mask", bytes(key) + struct.pack(">Q", off) + bytes([i * 0x13, i * 2 + 1]) + data)

    for b0, b1 in [(0x81, 0x01), (0x82, 0x03), (0x89, 0x03), (0x88, 0x05), (0x01, 0x00),
                   (0xC1, 0x01), (0x83, 0x01), (0x09, 0x01), (0x8A, 0x07), (0x82, 0x11)]:
        add("roundtrip", bytes([b0, b1]) + struct.pack(">Q", 70000) + bytes(K) + b"\x03\x05"
            + b"payload bytes")

    urls = [b"ws://example.com", b"wss://example.com:8443/chat?room=1", b"ws://127.0.0.1:9001/",
            b"ws://[::1]:80/x", b"WS://EXAMPLE.com", b"ws://h:/", b"ws://h:0", b"ws://h:65536",
            b"ws://user@h/", b"ws://h/#frag", b"http://h/", b"ws://h?x=1", b"ws://[fe80::1%25eth0]/",
            b"ws://[::ffff:1.2.3.4]/", b"ws://h/p%2Fq?a=%20", b"ws:///path", b"wss://a.b.c.d.e:443"]
    for u in urls:
        add("url", u)

    deflate_seeds(add)

    for t, items in targets.items():
        for data in items:
            put(t, data)
        print(t, len(set(items)))


if __name__ == "__main__":
    main()
