"""chat_server out of file descriptors (run under a low `ulimit -n`): it
must not spin on the listening socket nor log in a loop, must keep serving
the connections it has, and must accept again once descriptors are free.

    chat_emfile_check.py PORT SERVER_PID SERVER_LOG
"""
import socket
import sys
import time

from chat_raw import Raw, cpu_seconds, wait_log

port, pid, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ok = True


def check(name, cond, detail=""):
    global ok
    print(f"{'ok  ' if cond else 'FAIL'} {name}{': ' + str(detail) if detail and not cond else ''}")
    ok = ok and cond


members, refused = [], 0
for i in range(150):
    try:
        r = Raw(port, timeout=3)
        r.join("crowd", f"c{i}")
        members.append(r)
    except (OSError, ConnectionError):
        refused += 1
print(f"{len(members)} members joined, {refused} connections refused")
check("some connections were refused (the limit was reached)", refused > 0 and len(members) > 10)

# At the limit, with more clients knocking every 20 ms for 2 s: the
# server must stay calm.
cpu0, t0 = cpu_seconds(pid), time.monotonic()
knocks = []
while time.monotonic() - t0 < 2:
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    knocks.append(s)
    time.sleep(0.02)
cpu = cpu_seconds(pid) - cpu0
for s in knocks:
    s.close()
check(f"no busy loop at the limit: {cpu * 1000:.0f} ms CPU in 2 s", cpu < 0.3)
with open(log, errors="replace") as f:
    lines = [l for l in f if "out of file descriptors" in l]
check(f"the condition is logged once per episode ({len(lines)} line(s))", 1 <= len(lines) <= 2, lines[:3])

# Still serving: a message from one member reaches another.
a, b = members[0], members[-1]
a.send_json({"type": "message", "text": "still here"})
got = None
t0 = time.monotonic()
while time.monotonic() - t0 < 5:
    e = b.event()  # join events of later members come first
    if e["type"] == "message":
        got = e["text"]
        break
check("members are still served at the limit", got == "still here", got)

# Free descriptors: new connections are accepted again.
for r in members[1:31]:
    r.close()
time.sleep(0.3)
try:
    late = Raw(port, timeout=3)
    late.join("crowd", "late")
    joined = True
except (OSError, ConnectionError) as exc:
    joined = False
    print("late join failed:", exc)
check("accepts again once connections closed", joined)
check("... and says so", wait_log(log, "accepting connections again", 3) is not None)
sys.exit(0 if ok else 1)
