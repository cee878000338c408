import asyncio, websockets
async def main():
    async with websockets.connect('ws://127.0.0.1:9200/chat?room=1', subprotocols=['chat']) as ws:
        await ws.send('Hello, world')
        await ws.recv()
        await ws.send(bytes(range(256)))
        await ws.recv()
        await ws.send('h\u00e9llo \U0001F600' * 20)
        await ws.recv()
        await ws.send(['frag', 'mented ', '\u00e9t\u00e9'])
        await ws.recv()
        await ws.send(b'x' * 70000)
        await ws.recv()
        pong = await ws.ping(b'keepalive')
        await pong
        await ws.close(1000, 'bye')
asyncio.run(main())
