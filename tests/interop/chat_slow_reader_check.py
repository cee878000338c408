"""A chat member that joins and then never reads, while another floods its
room: chat_server closes it with 1013 "too slow" once its queue is full,
and its socket is gone within the close timeout the engine announces
(RFC 6455 close handshake: the peer never answers, so the engine gives up
and says so); meanwhile the other members are served in full.

    chat_slow_reader_check.py PORT SERVER_LOG CLOSE_TIMEOUT_MS
"""
import sys
import threading
import time

from chat_raw import LogWatch, Raw

port, log, close_ms = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ok = True


def check(name, cond, detail=""):
    global ok
    print(f"{'ok  ' if cond else 'FAIL'} {name}{': ' + str(detail) if detail and not cond else ''}")
    ok = ok and cond


slow = Raw(port, rcvbuf=4096)
slow.join("flood", "slowpoke")            # ... and never read again
watcher = Raw(port, timeout=20)
watcher.join("flood", "watcher")
flooder = Raw(port, timeout=20)
flooder.join("flood", "flooder")
watcher.event()                            # flooder joined

N, SIZE = 3000, 4000
got, left = [], []


def watch():
    try:
        while len(got) < N or not left:
            e = watcher.event()
            if e["type"] == "message":
                got.append(e["text"][:8])
            elif e["type"] == "leave":
                left.append(e["name"])
    except Exception as exc:  # noqa: BLE001 - reported below
        got.append(f"error {exc}")


def drain():
    try:
        while True:
            flooder.event()
    except Exception:  # noqa: BLE001 - the flooder's socket closes at the end
        pass


addr = slow.addr()
TOO_SLOW, CLOSED = f"too slow {addr}", f"socket closed {addr}"
logw = LogWatch(log, [TOO_SLOW, CLOSED])
threading.Thread(target=watch, daemon=True).start()
threading.Thread(target=drain, daemon=True).start()
t0 = time.monotonic()
pad = "x" * (SIZE - 8)
for i in range(N):
    flooder.send_text('{"type":"message","text":"%08d%s"}' % (i, pad))
t_slow = logw.wait(TOO_SLOW, 20)
check("the member that does not read is closed with 1013 (too slow)", t_slow is not None)
t_closed = logw.wait(CLOSED, 20) if t_slow is not None else None
budget = close_ms / 1000 + 1.0
gone_after = t_closed - t_slow if t_closed is not None else None
check(f"... and its socket is closed {gone_after if gone_after is None else round(gone_after, 2)} s later "
      f"(close timeout {close_ms} ms, allowed {budget:.1f} s)", gone_after is not None and gone_after <= budget)
deadline = time.monotonic() + 20
while (len(got) < N or not left) and time.monotonic() < deadline:
    time.sleep(0.05)
check(f"the other member got all {N} messages in order", got == ["%08d" % i for i in range(N)],
      f"{len(got)} received")
check("... and was told the slow one left", left == ["slowpoke"], left)
print(f"flood of {N} x {SIZE} B took {time.monotonic() - t0:.2f} s")
for r in (slow, watcher, flooder):
    r.close()
sys.exit(0 if ok else 1)
