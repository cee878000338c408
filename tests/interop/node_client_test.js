// Node `ws` client against ws6455's echo_server.
//   node node_client_test.js ws://127.0.0.1:PORT/
// Every check compares content; exit status 0 only when all passed.
'use strict';
const WebSocket = require('ws');
const crypto = require('crypto');

const url = process.argv[2];
let passed = 0;
let failed = 0;

function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? ': ' + detail : ''}`);
  }
}

function open(opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    const onMsg = (data, isBinary) => { cleanup(); resolve({ data, isBinary }); };
    const onClose = (code) => { cleanup(); reject(new Error(`closed ${code} before a message`)); };
    const cleanup = () => { ws.off('message', onMsg); ws.off('close', onClose); };
    ws.on('message', onMsg);
    ws.on('close', onClose);
  });
}

function closed(ws) {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function echo(ws, name, payload, binary) {
  const p = nextMessage(ws);
  ws.send(payload, { binary });
  const { data, isBinary } = await p;
  const want = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  check(`${name}: type`, isBinary === binary, `isBinary=${isBinary}`);
  check(`${name}: content (${want.length} bytes)`, Buffer.compare(data, want) === 0,
        `got ${data.length} bytes`);
}

async function main() {
  const ws = await open();

  await echo(ws, 'text', 'hello, ws6455 — ünïcödé ✓ 𝄞', false);
  await echo(ws, 'binary', Buffer.from([0, 1, 2, 253, 254, 255, 0x80, 0x7f]), true);
  for (const n of [0, 125, 126, 65535, 65536, 1 << 20]) {
    await echo(ws, `binary ${n}`, crypto.randomBytes(n), true);
    await echo(ws, `text ${n}`, 'x'.repeat(n), false);
  }

  // Fragmented sends: three frames, one message; the text fragments split
  // a multi-byte character (the euro sign is E2 82 AC).
  {
    const p = nextMessage(ws);
    const euro = Buffer.from('€', 'utf8');
    ws.send(Buffer.concat([Buffer.from('frag-'), euro.subarray(0, 1)]), { binary: false, fin: false });
    ws.send(euro.subarray(1), { binary: false, fin: false });
    ws.send(Buffer.from('-end'), { binary: false, fin: true });
    const { data, isBinary } = await p;
    check('fragmented text: one text message', !isBinary);
    check('fragmented text: content', data.toString('utf8') === 'frag-€-end', data.toString());
  }
  {
    const p = nextMessage(ws);
    const parts = [crypto.randomBytes(1000), crypto.randomBytes(70000), crypto.randomBytes(1)];
    parts.forEach((b, i) => ws.send(b, { binary: true, fin: i === parts.length - 1 }));
    const { data, isBinary } = await p;
    check('fragmented binary: one binary message', isBinary);
    check('fragmented binary: content', Buffer.compare(data, Buffer.concat(parts)) === 0);
  }

  // Ping with a payload: the pong carries it back.
  {
    const payload = Buffer.from('ping-payload-0123456789');
    const p = new Promise((resolve) => ws.once('pong', resolve));
    ws.ping(payload);
    const got = await p;
    check('ping/pong: payload echoed', Buffer.compare(got, payload) === 0, got.toString());
  }

  // Client closes with a code and reason: the server echoes the code.
  {
    const p = closed(ws);
    ws.close(4001, 'client says bye');
    const { code } = await p;
    check('client close: code echoed', code === 4001, `code=${code}`);
  }

  // A second connection closed with 1000, no reason.
  {
    const ws2 = await open();
    await echo(ws2, 'second connection', 'again', false);
    const p = closed(ws2);
    ws2.close(1000);
    const { code } = await p;
    check('client close 1000', code === 1000, `code=${code}`);
  }

  console.log(`node client -> echo_server: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL exception: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
