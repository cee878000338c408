# Echo server (python websockets) behind a recording proxy: every proxied
# connection's client->server and server->client bytes go to files.
import asyncio, sys, websockets, itertools
counter = itertools.count()
async def echo(ws, path=None):
    try:
        async for m in ws:
            await ws.send(m)
    except Exception:
        pass
async def pipe(r, w, f):
    try:
        while True:
            d = await r.read(65536)
            if not d: break
            f.write(d); f.flush()
            w.write(d); await w.drain()
    except Exception:
        pass
    finally:
        try: w.close()
        except Exception: pass
async def proxy(cr, cw):
    n = next(counter)
    sr, sw = await asyncio.open_connection('127.0.0.1', 9201)
    with open(f'conn{n}.c2s', 'wb') as a, open(f'conn{n}.s2c', 'wb') as b:
        await asyncio.gather(pipe(cr, sw, a), pipe(sr, cw, b))
async def main():
    async with websockets.serve(echo, '127.0.0.1', 9201, subprotocols=['chat'], compression=None, max_size=None):
        srv = await asyncio.start_server(proxy, '127.0.0.1', 9200)
        async with srv:
            await asyncio.sleep(float(sys.argv[1]))
asyncio.run(main())
