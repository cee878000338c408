"""Fairness: clients flooding chat_server with empty pongs as fast as they
can must not delay the room's messages: while two flooders run, a message
from one member reaches another within 100 ms, every time.

    chat_flood_check.py PORT [SECONDS]
"""
import os
import sys
import threading
import time

from chat_raw import Raw

port = int(sys.argv[1])
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
stop = False
sent_bytes = [0, 0]


def flood(i):
    r = Raw(port, timeout=10)
    r.join("flood-room", f"flooder{i}")
    # masked, empty pongs: 6 bytes each, 64 KiB at a time
    chunk = b"".join(b"\x8a\x80" + os.urandom(4) for _ in range(65536 // 6))
    try:
        while not stop:
            r.s.sendall(chunk)
            sent_bytes[i] += len(chunk)
    except OSError:
        pass
    r.close()


a, b = Raw(port, timeout=5), Raw(port, timeout=5)
a.join("fair", "a")
b.join("fair", "b")
a.event()  # b joined
threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(2)]
for t in threads:
    t.start()
time.sleep(0.3)
lat, lost = [], 0
t_end = time.monotonic() + seconds
i = 0
while time.monotonic() < t_end:
    t0 = time.monotonic()
    a.send_json({"type": "message", "text": f"probe {i}"})
    try:
        while True:
            e = b.event()
            if e.get("type") == "message":
                break
        lat.append((time.monotonic() - t0) * 1000)
        if e["text"] != f"probe {i}":
            lost += 1
    except OSError:
        lost += 1
        break
    i += 1
    time.sleep(0.02)
stop = True
flooded = sum(sent_bytes) / 1e6
worst = max(lat) if lat else float("inf")
lat.sort()
p50 = lat[len(lat) // 2] if lat else float("inf")
ok = lost == 0 and len(lat) == i and worst <= 100
print(f"{'ok  ' if ok else 'FAIL'} {i} messages while 2 clients flooded {flooded:.0f} MB of pongs: "
      f"latency p50 {p50:.1f} ms, max {worst:.1f} ms (limit 100 ms), {lost} lost")
sys.exit(0 if ok else 1)
