"""A raw WebSocket client for chat_server tests that need control of the
socket (a member that never reads, hundreds of connections under a low
descriptor limit): handshake, masked text frames out, frames in. Standard
library only."""
import base64
import json
import os
import socket
import struct
import threading
import time


class Raw:
    def __init__(self, port, rcvbuf=None, timeout=5):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n")[0].decode())

    def addr(self):
        host, port = self.s.getsockname()
        return f"{host}:{port}"

    def send_text(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        key = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        self.s.sendall(head + mask + masked)

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def frame(self):
        """(opcode, payload) of the next frame."""
        self._need(2)
        op, n = self.buf[0] & 15, self.buf[1] & 127
        at = 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(at + n)
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return op, payload

    def event(self):
        """The next chat event (JSON), answering pings on the way."""
        while True:
            op, payload = self.frame()
            if op == 1:
                return json.loads(payload)
            if op == 8:
                raise ConnectionError(f"close {payload[:2].hex()} {payload[2:]!r}")

    def join(self, room, name):
        self.send_json({"type": "join", "room": room, "name": name})
        e = self.event()
        if e.get("type") != "users":
            raise ConnectionError(f"join refused: {e}")
        return e

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def cpu_seconds(pid):
    """CPU time the process has used so far (/proc/PID/schedstat, ns)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def wait_log(path, pattern, timeout):
    """Seconds until a line containing pattern appears in the log, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        with open(path, errors="replace") as f:
            if any(pattern in line for line in f):
                return time.monotonic() - t0
        time.sleep(0.02)
    return None


class LogWatch:
    """Polls a log file every 10 ms in the background and remembers when each
    pattern was first seen (time.monotonic())."""

    def __init__(self, path, patterns):
        self.path, self.seen = path, {p: None for p in patterns}
        self.stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop and None in self.seen.values():
            with open(self.path, errors="replace") as f:
                text = f.read()
            now = time.monotonic()
            for p, t in self.seen.items():
                if t is None and p in text:
                    self.seen[p] = now
            time.sleep(0.01)

    def wait(self, pattern, timeout):
        end = time.monotonic() + timeout
        while self.seen[pattern] is None and time.monotonic() < end:
            time.sleep(0.01)
        return self.seen[pattern]
