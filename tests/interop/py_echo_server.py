"""Python `websockets` echo server: the peer for ws_client and client_matrix.

    /usr/bin/python3 py_echo_server.py     prints "listening PORT" (127.0.0.1, free port)
    /usr/bin/python3 py_echo_server.py --deflate
        with websockets' default permessage-deflate (window bits 12 both
        ways, memLevel 5, context takeover allowed)

Same commands as node_echo_server.js (cmd:close, cmd:ping, cmd:fragments,
cmd:protocol, cmd:header, cmd:extensions, cmd:bigfragments); prints "closed
CODE REASON" for each connection, then "traffic in=N": the bytes read from
its socket.
"""
import asyncio
import sys

import websockets
import websockets.server


class CountingProtocol(websockets.server.WebSocketServerProtocol):
    """Counts the bytes read from the socket (to see compression work)."""

    bytes_in = 0

    def data_received(self, data):
        self.bytes_in += len(data)
        super().data_received(data)


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
                elif cmd == "extensions":
                    await ws.send("extensions:" + ws.response_headers.get("Sec-WebSocket-Extensions", "none"))
                elif cmd == "bigfragments":
                    big = "0123456789" * 20000
                    await ws.send(iter([big[i:i + 50000] for i in range(0, len(big), 50000)]))
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
    print(f"traffic in={ws.bytes_in}", flush=True)


async def main():
    compression = "deflate" if "--deflate" in sys.argv[1:] else None
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None, compression=compression,
                                subprotocols=["chat"], create_protocol=CountingProtocol) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"listening {port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
