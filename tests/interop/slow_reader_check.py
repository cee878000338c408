"""Backpressure: a client that floods echo_server and never reads.

    /usr/bin/python3 slow_reader_check.py PORT

The server must stop reading from it (so the flood stalls after a bounded
amount), keep serving another client meanwhile, and, once the slow client
reads, deliver every echo intact and in order.
"""
import os
import select
import socket
import struct
import sys
import threading
import time

PORT = int(sys.argv[1])
FRAME = 65536


def handshake():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def frame(opcode, payload):
    mask = os.urandom(4)
    n = len(payload)
    hdr = bytes([0x80 | opcode])
    hdr += bytes([0x80 | n]) if n < 126 else (bytes([0xFE]) + struct.pack("!H", n) if n < 65536 else bytes([0xFF]) + struct.pack("!Q", n))
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 200 else \
        (int.from_bytes(payload, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
    return hdr + mask + masked


def payload(i):
    return struct.pack("!I", i) * (FRAME // 4)


def read_frame(s, buf):
    while True:
        if len(buf) >= 2:
            n = buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4: n = None
                else: n, off = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10: n = None
                else: n, off = struct.unpack("!Q", buf[2:10])[0], 10
            if n is not None and len(buf) >= off + n:
                return buf[0] & 0x0F, bytes(buf[off:off + n]), buf[off + n:]
        chunk = s.recv(1 << 20)
        if not chunk:
            raise EOFError
        buf += chunk


slow = handshake()
slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
slow.setblocking(False)
frames = [frame(2, payload(i)) for i in range(64)]   # built once, reused round robin
sent_bytes, sent_frames, pending = 0, 0, b""
stalled_since = None
t0 = time.time()
while time.time() - t0 < 20:
    if not pending:
        pending = frames[sent_frames % 64]
    try:
        n = slow.send(pending)
    except BlockingIOError:
        n = 0
    if n:
        stalled_since = None
        sent_bytes += n
        pending = pending[n:]
        if not pending:
            sent_frames += 1
    else:
        stalled_since = stalled_since or time.time()
        if time.time() - stalled_since > 1.0:
            break
        select.select([], [slow], [], 0.1)
stalled = stalled_since is not None
print(f"{'ok  ' if stalled else 'FAIL'} flood stalled after {sent_bytes / 1e6:.1f} MB ({sent_frames} frames)")

other = handshake()
other.sendall(frame(1, b"still serving"))
op, data, _ = read_frame(other, bytearray())
ok_other = op == 1 and data == b"still serving"
print(f"{'ok  ' if ok_other else 'FAIL'} another client is served meanwhile")
other.close()

# Now read: every echo must come back intact and in order.
slow.setblocking(True)
slow.settimeout(20)
rest = pending


def finish():
    slow.sendall(rest + frame(8, struct.pack("!H", 1000)))


threading.Thread(target=finish, daemon=True).start()
total = sent_frames + (1 if rest else 0)
buf, got, ok_order = bytearray(), 0, True
while True:
    op, data, buf = read_frame(slow, buf)
    if op == 8:
        break
    if data != payload(got % 64):
        ok_order = False
    got += 1
ok_all = got == total and ok_order
print(f"{'ok  ' if ok_all else 'FAIL'} after reading: {got}/{total} echoes intact and in order")
sys.exit(0 if stalled and ok_other and ok_all else 1)
