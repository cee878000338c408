"""An Autobahn|Python (Debian python3-autobahn) echo server with
permessage-deflate: the peer for ws_client --deflate.

    /usr/bin/python3 autobahn_echo_server.py [--no-context-takeover-window-10]

prints "listening PORT" (127.0.0.1, a free port). It accepts the client's
first permessage-deflate offer; with --no-context-takeover-window-10 it also
asks the client for client_no_context_takeover and client_max_window_bits=10
and uses server_no_context_takeover and a 10-bit window itself (the offer
must allow that). Without a permessage-deflate offer the connection goes on
uncompressed (cmd:extensions says so).

Same commands as node_echo_server.js (cmd:close, cmd:fragments,
cmd:extensions, cmd:bigfragments); prints "closed CODE REASON" for each
connection, then "traffic in=N out=M": the data frames' bytes on the wire.
"""
import asyncio
import sys

from autobahn.asyncio.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept

STRICT = "--no-context-takeover-window-10" in sys.argv[1:]


def accept(offers):
    for offer in offers:
        if not isinstance(offer, PerMessageDeflateOffer):
            continue
        if not STRICT:
            return PerMessageDeflateOfferAccept(offer)
        if not offer.accept_max_window_bits or not offer.accept_no_context_takeover:
            continue
        return PerMessageDeflateOfferAccept(offer, request_no_context_takeover=True,
                                            request_max_window_bits=10,
                                            no_context_takeover=True, window_bits=10)
    return None


class Echo(WebSocketServerProtocol):
    def onMessage(self, payload, isBinary):
        if not isBinary and payload.startswith(b"cmd:"):
            cmd, _, arg = payload[4:].decode().partition(" ")
            if cmd == "close":
                code, _, reason = arg.partition(" ")
                self.sendClose(int(code), reason)
            elif cmd == "fragments":
                # three frames, the euro sign split across the first two
                euro = "€".encode()
                self.beginMessage(isBinary=False)
                self.sendMessageFrame(b"frag-" + euro[:2])
                self.sendMessageFrame(euro[2:])
                self.sendMessageFrame(b"-end")
                self.endMessage()
            elif cmd == "bigfragments":
                self.sendMessage(b"0123456789" * 20000, isBinary=False, fragmentSize=50000)
            elif cmd == "extensions":
                used = [f"{e.EXTENSION_NAME} server_no_context_takeover={e.server_no_context_takeover}"
                        f" client_no_context_takeover={e.client_no_context_takeover}"
                        f" server_max_window_bits={e.server_max_window_bits}"
                        f" client_max_window_bits={e.client_max_window_bits}"
                        for e in self.websocket_extensions_in_use]
                self.sendMessage(("extensions:" + (", ".join(used) or "none")).encode())
            else:
                self.sendMessage(("unknown command " + cmd).encode())
            return
        self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        print(f"closed {code} {reason or ''}", flush=True)
        t = self.trafficStats
        print(f"traffic in={t.incomingOctetsWireLevel} out={t.outgoingOctetsWireLevel}", flush=True)


async def main():
    factory = WebSocketServerFactory("ws://127.0.0.1")
    factory.protocol = Echo
    factory.setProtocolOptions(perMessageCompressionAccept=accept, maxMessagePayloadSize=0,
                               maxFramePayloadSize=0)
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
