"""Python `websockets` client against ws6455's echo_server.

    /usr/bin/python3 py_client_test.py ws://127.0.0.1:PORT/

Every check compares content; exit status 0 only when all passed.
"""
import asyncio
import os
import sys

import websockets

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}{': ' + detail if detail else ''}")


async def echo(ws, name, payload):
    await ws.send(payload)
    got = await asyncio.wait_for(ws.recv(), 10)
    check(f"{name}: type", type(got) is type(payload), type(got).__name__)
    check(f"{name}: content ({len(payload)})", got == payload, f"got {len(got)}")


async def main(url):
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        await echo(ws, "text", "hello from python — ünïcödé ✓ 𝄞")
        await echo(ws, "binary", bytes(range(256)))
        for n in (0, 125, 126, 65535, 65536, 1 << 20):
            await echo(ws, f"binary {n}", os.urandom(n))
            await echo(ws, f"text {n}", "y" * n)

        # Fragmented message: websockets sends an iterable as fragments.
        await ws.send(iter(["frag-", "π", "-end"]))
        got = await asyncio.wait_for(ws.recv(), 10)
        check("fragmented text", got == "frag-π-end", repr(got))
        await ws.send(iter([b"\x00" * 10, b"\xff" * 70000, b"z"]))
        got = await asyncio.wait_for(ws.recv(), 10)
        check("fragmented binary", got == b"\x00" * 10 + b"\xff" * 70000 + b"z", f"{len(got)} bytes")

        # Ping: the waiter resolves when the matching pong arrives.
        waiter = await ws.ping(b"py-ping-42")
        await asyncio.wait_for(waiter, 5)
        check("ping answered by a pong with the same payload", True)

        await ws.close(code=4002, reason="python says bye")
        check("close code echoed", ws.close_code == 4002, str(ws.close_code))

    print(f"python client -> echo_server: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(sys.argv[1])))
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        print(f"FAIL exception: {e!r}")
        sys.exit(1)
