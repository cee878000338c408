"""Python `websockets` echo server: the peer for ws_client and client_matrix.

    /usr/bin/python3 py_echo_server.py     prints "listening PORT" (127.0.0.1, free port)

Same commands as node_echo_server.js (cmd:close, cmd:ping, cmd:fragments,
cmd:protocol, cmd:header); prints "closed CODE REASON" for each connection.
"""
import asyncio
import sys

import websockets


async def handler(ws, path=None):
    try:
        async for msg in ws:
            if isinstance(msg, str) and msg.startswith("cmd:"):
                cmd, _, arg = msg[4:].partition(" ")
                if cmd == "close":
                    code, _, reason = arg.partition(" ")
                    await ws.close(int(code), reason)
                elif cmd == "ping":
                    waiter = await ws.ping(arg.encode())
                    await waiter
                    await ws.send("pong:" + arg)
                elif cmd == "fragments":
                    # websockets sends an iterable as one fragmented message.
                    await ws.send(iter(["frag-", "€", "-end"]))
                elif cmd == "protocol":
                    await ws.send("protocol:" + (ws.subprotocol or ""))
                elif cmd == "header":
                    await ws.send("header:" + ws.request_headers.get(arg, ""))
                else:
                    await ws.send("unknown command " + cmd)
                continue
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    print(f"closed {ws.close_code} {ws.close_reason}", flush=True)


async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=None,
                                subprotocols=["chat"]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening {port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
