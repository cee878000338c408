"""Raw-socket opening-handshake checks against echo_server (or any server on ws6455).

    /usr/bin/python3 handshake_check.py PORT

Sends a valid upgrade request and invalid ones over plain TCP and asserts the
exact status lines and the headers RFC 6455 asks for; each rejected request
must also end with the server closing the connection.
"""
import socket
import sys
import time

PORT = int(sys.argv[1])
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 section 1.3
failed = 0


def exchange(request, want_eof):
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(request.encode("latin-1"))
    data = b""
    deadline = time.time() + 5
    eof = False
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            eof = True
            break
        data += chunk
        if b"\r\n\r\n" in data and not want_eof:
            break
    s.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, eof


def check(name, ok, detail=""):
    global failed
    print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")
    if not ok:
        failed += 1


def request(method="GET", version="13", key=KEY, http="HTTP/1.1", extra=""):
    r = f"{method} / {http}\r\nHost: 127.0.0.1:{PORT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    if key is not None:
        r += f"Sec-WebSocket-Key: {key}\r\n"
    if version is not None:
        r += f"Sec-WebSocket-Version: {version}\r\n"
    return r + extra + "\r\n"


status, h, _ = exchange(request(), want_eof=False)
check("valid request -> 101", status == "HTTP/1.1 101 Switching Protocols", status)
check("101 has the RFC accept key", h.get("sec-websocket-accept") == ACCEPT, repr(h))
check("101 has Upgrade: websocket", h.get("upgrade", "").lower() == "websocket", repr(h))
check("101 has Connection: Upgrade", "upgrade" in h.get("connection", "").lower(), repr(h))

status, h, eof = exchange(request(version="8"), want_eof=True)
check("version 8 -> 426", status == "HTTP/1.1 426 Upgrade Required", status)
check("426 names Sec-WebSocket-Version: 13", h.get("sec-websocket-version") == "13", repr(h))
check("426 then close", eof)

status, h, eof = exchange(request(method="POST"), want_eof=True)
check("POST -> 405", status == "HTTP/1.1 405 Method Not Allowed", status)
check("405 names Allow: GET", h.get("allow") == "GET", repr(h))
check("405 then close", eof)

status, h, eof = exchange(request(key=None), want_eof=True)
check("missing key -> 400", status == "HTTP/1.1 400 Bad Request", status)
check("400 then close", eof)

status, h, eof = exchange(request(key="short"), want_eof=True)
check("bad key -> 400", status == "HTTP/1.1 400 Bad Request", status)

status, h, eof = exchange("hello\r\n\r\n", want_eof=True)
check("garbage -> 400", status == "HTTP/1.1 400 Bad Request", status)
check("garbage then close", eof)

status, h, eof = exchange(request(extra="X-Big: " + "a" * 9000 + "\r\n"), want_eof=True)
check("oversized head -> 431 (or 400)", status in ("HTTP/1.1 431 Request Header Fields Too Large",
                                                  "HTTP/1.1 400 Bad Request"), status)

print(f"handshake checks: {'all passed' if not failed else str(failed) + ' failed'}")
sys.exit(1 if failed else 0)
