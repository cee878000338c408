// permessage-deflate (RFC 7692) with Node `ws` clients against a ws6455 echo
// server started with --deflate.
//
//   node node_deflate_client_test.js URL [takeover]
//
// `takeover`: the server was started with --deflate-server-takeover
// --deflate-client-takeover (both compressors may keep their window);
// without it, the server's defaults (no context takeover either way, the
// server requiring it of the client too).
//
// For each of Node's parameter sets: the handshake must agree on
// permessage-deflate with the parameters both sides asked for, and a
// workload must round-trip byte for byte: small and chat-sized text (the
// server sends messages under its 64-byte minimum uncompressed), 20 chat
// messages in a row (context takeover, where allowed), text and binary over
// 64 KiB, incompressible binary, empty messages, and fragmented messages
// (a character split across compressed fragments). A 1 MiB compressible
// message must cross the socket compressed both ways (socket byte counts),
// so "negotiated but never compressed" fails too.
//
// One set is a known Node quirk, checked as it behaves: a client configured
// with clientNoContextTakeover: false fails the connection when the
// response names client_no_context_takeover (RFC 7692 7.1.1.2 lets a server
// do that, and ws6455's default server does).
'use strict';
const WebSocket = require('ws');
const crypto = require('crypto');

const url = process.argv[2];
const takeover = process.argv[3] === 'takeover';
let failures = 0;

function check(name, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : ': ' + (detail || '')}`);
  if (!ok) failures++;
}

function connect(options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: options, maxPayload: 64 << 20 });
    const queue = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const m = { data, isBinary };
      if (waiters.length) waiters.shift()(m);
      else queue.push(m);
    });
    ws.next = () =>
      new Promise((res, rej) => {
        if (queue.length) return res(queue.shift());
        const t = setTimeout(() => rej(new Error('timeout waiting for an echo')), 10000);
        waiters.push((m) => {
          clearTimeout(t);
          res(m);
        });
      });
    ws.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// A deterministic JSON chat message of 100..300 bytes.
function chatMessage(i) {
  const words = ['deploy', 'tonight', 'lunch', 'the', 'server', 'is', 'green', 'review', 'coffee', 'thanks'];
  let text = '';
  for (let k = 0; k < 5 + (i * 7) % 25; k++) text += (k ? ' ' : '') + words[(i * 31 + k * 17) % words.length];
  return JSON.stringify({ type: 'message', id: 100000 + i, room: 'general', user: 'alice', text, ts: 1700000000000 + i });
}

function sameMessage(m, want, wantBinary) {
  const w = Buffer.isBuffer(want) ? want : Buffer.from(want);
  return m.isBinary === wantBinary && Buffer.compare(m.data, w) === 0;
}

async function echo(ws, name, data, binary) {
  ws.send(data, { binary });
  const m = await ws.next();
  check(name, sameMessage(m, data, binary), `got ${m.isBinary ? 'binary' : 'text'} of ${m.data.length} bytes`);
}

async function workload(ws, label) {
  await echo(ws, `${label}: short text (sent back uncompressed)`, 'hello ünïcödé ✓', false);
  for (let i = 0; i < 20; i++) {
    const msg = chatMessage(i);
    ws.send(msg);
    const m = await ws.next();
    if (!sameMessage(m, msg, false)) {
      check(`${label}: chat message ${i}`, false, m.data.toString().slice(0, 80));
      return;
    }
  }
  check(`${label}: 20 chat messages in a row`, true);
  const text = 'Lorem ipsum dolor sit amet, ünïcödé ✓ 𝄞, '.repeat(2500); // > 64 KiB of UTF-8
  await echo(ws, `${label}: text of ${Buffer.byteLength(text)} bytes`, text, false);
  await echo(ws, `${label}: random binary of 100000 bytes`, crypto.randomBytes(100000), true);
  await echo(ws, `${label}: empty text`, '', false);
  await echo(ws, `${label}: empty binary`, Buffer.alloc(0), true);

  // Fragmented: compressed fragments, '€' split across two of them.
  const euro = Buffer.from('€');
  const big = Buffer.from('fragment '.repeat(8000));
  const parts = [Buffer.concat([Buffer.from('frag-'), euro.subarray(0, 2)]), Buffer.concat([euro.subarray(2), big]), Buffer.from('-end')];
  ws.send(parts[0], { binary: false, fin: false });
  ws.send(parts[1], { binary: false, fin: false });
  ws.send(parts[2], { binary: false, fin: true });
  let m = await ws.next();
  check(`${label}: fragmented text (${Buffer.concat(parts).length} bytes, 3 frames)`, sameMessage(m, Buffer.concat(parts), false));

  // 1 MiB that compresses well: it must cross the socket compressed both ways.
  const blob = Buffer.alloc(1 << 20);
  // a period of 97 bytes: within reach of an 8-bit window too
  for (let i = 0; i < blob.length; i++) blob[i] = (i % 97) ^ ((i >> 12) & 7);
  const r0 = ws._socket.bytesRead, w0 = ws._socket.bytesWritten;
  ws.send(blob, { binary: true });
  m = await ws.next();
  const rd = ws._socket.bytesRead - r0, wr = ws._socket.bytesWritten - w0;
  check(`${label}: 1 MiB binary, compressed both ways (sent ${wr} bytes, received ${rd})`,
    sameMessage(m, blob, true) && rd < blob.length / 10 && wr < blob.length / 10, `sent ${wr}, received ${rd}`);
}

// What the agreed parameters must say, given the client's options.
function expected(opts) {
  return {
    server_no_context_takeover: !takeover || !!opts.serverNoContextTakeover,
    client_no_context_takeover: !takeover || !!opts.clientNoContextTakeover,
    server_max_window_bits: opts.serverMaxWindowBits || 15,
    client_max_window_bits: opts.clientMaxWindowBits || 15,
  };
}

function agreed(ws) {
  const pmd = ws._extensions['permessage-deflate'];
  const p = pmd ? pmd.params : null;
  if (!p) return null;
  return {
    server_no_context_takeover: !!p.server_no_context_takeover,
    client_no_context_takeover: !!p.client_no_context_takeover,
    server_max_window_bits: typeof p.server_max_window_bits === 'number' ? p.server_max_window_bits : 15,
    client_max_window_bits: typeof p.client_max_window_bits === 'number' ? p.client_max_window_bits : 15,
  };
}

const sets = [
  ['default', {}],
  ['serverNoContextTakeover', { serverNoContextTakeover: true }],
  ['clientNoContextTakeover', { clientNoContextTakeover: true }],
  ['clientMaxWindowBits: 10', { clientMaxWindowBits: 10 }],
  ['serverMaxWindowBits: 10', { serverMaxWindowBits: 10 }],
  // zlib cannot deflate with an 8-bit window: Node and ws6455 both compress
  // with 9 while keeping matches within 256 bytes (docs/deflate.md).
  ['all four, window bits 8', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 8 }],
];

async function main() {
  for (const [label, opts] of sets) {
    let ws;
    try {
      ws = await connect({ threshold: 0, ...opts });
    } catch (e) {
      check(`${label}: handshake`, false, e.message);
      continue;
    }
    const got = agreed(ws), want = expected(opts);
    check(`${label}: negotiated ${ws.extensions} ${JSON.stringify(got)}`,
      ws.extensions === 'permessage-deflate' && JSON.stringify(got) === JSON.stringify(want), `want ${JSON.stringify(want)}`);
    try {
      await workload(ws, label);
    } catch (e) {
      check(`${label}: workload finished`, false, e.message);
    }
    ws.close(1000, 'deflate bye');
    const c = await ws.closed;
    check(`${label}: clean close 1000`, c.code === 1000, `code ${c.code}`);
  }

  // The quirk: clientNoContextTakeover: false refuses a response that names
  // client_no_context_takeover, which ws6455's default server sends (Node
  // reports "Invalid Sec-WebSocket-Extensions header").
  const label = 'clientNoContextTakeover: false';
  try {
    const ws = await connect({ threshold: 0, clientNoContextTakeover: false });
    check(`${label}: ${takeover ? 'accepted by a server that allows client takeover' : 'expected Node to refuse'}`,
      takeover && agreed(ws) && !agreed(ws).client_no_context_takeover, JSON.stringify(agreed(ws)));
    if (takeover) await workload(ws, label);
    ws.close(1000);
    await ws.closed;
  } catch (e) {
    check(`${label}: ${takeover ? 'handshake' : 'Node refuses client_no_context_takeover (its quirk)'}`,
      !takeover && /Invalid Sec-WebSocket-Extensions/.test(e.message), e.message);
  }
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
}
main();
