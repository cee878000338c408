"""Python `websockets` checks through a reverse proxy (tests/interop/run.sh,
section proxy). Each mode prints ok/FAIL lines; exit status 0 only when all
passed. wss:// URLs trust the certificate in SSL_CERT_FILE.

    proxy_check.py idle URL SECONDS survives|dropped
        Opens, stays silent SECONDS (the client sends no pings of its own;
        it answers the server's), then sends a message. "survives": the echo
        comes back (the server's keepalive pings kept the proxy from timing
        out). "dropped": the proxy closed the idle tunnel (1006).
    proxy_check.py origin URL ORIGIN accepted|refused
        Opens with that Origin header: "accepted" expects the upgrade,
        "refused" a 403 from chat_server's Origin check.
"""
import asyncio
import sys

import websockets

failed = 0


def check(name, ok, detail=""):
    global failed
    if not ok:
        failed += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")


async def idle(url, seconds, want):
    async with websockets.connect(url, ping_interval=None, open_timeout=10) as ws:
        await asyncio.sleep(seconds)
        try:
            await ws.send("after idle")
            got = await asyncio.wait_for(ws.recv(), 10)
            outcome = "survives" if got == "after idle" else f"wrong echo {got!r}"
        except websockets.exceptions.ConnectionClosed as e:
            outcome = "dropped" if e.rcvd is None else f"closed with {e.rcvd.code}"
        check(f"{url} silent {seconds}s: {want}", outcome == want, outcome)


async def origin(url, origin_value, want):
    try:
        async with websockets.connect(url, origin=origin_value, ping_interval=None, open_timeout=10) as ws:
            await ws.close()
            outcome = "accepted"
    except websockets.exceptions.InvalidStatusCode as e:
        outcome = "refused" if e.status_code == 403 else f"status {e.status_code}"
    check(f"{url} Origin {origin_value}: {want}", outcome == want, outcome)


def main(argv):
    mode = argv[1]
    if mode == "idle":
        asyncio.run(idle(argv[2], float(argv[3]), argv[4]))
    elif mode == "origin":
        asyncio.run(origin(argv[2], argv[3], argv[4]))
    else:
        print(__doc__)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
