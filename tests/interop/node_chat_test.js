// chat_server checks with Node: HTTP routes, the /chat upgrade through
// ws6455_conn_accept_upgrade (HTTP/1.1 or later only), rooms, unique names,
// JSON escaping and strictness, Origin check.
//   node node_chat_test.js PORT
'use strict';
const http = require('http');
const net = require('net');
const WebSocket = require('ws');

const port = Number(process.argv[2]);
const base = `127.0.0.1:${port}`;
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name}${detail !== undefined ? ': ' + detail : ''}`); }
}

function get(path, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Sends a raw request, returns the response head (or what came in 3 s).
function rawRequest(text) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let data = '';
    const done = () => { s.destroy(); resolve(data.split('\r\n\r\n')[0]); };
    s.on('data', (d) => { data += d.toString('latin1'); if (data.includes('\r\n\r\n')) done(); });
    s.on('error', done);
    s.on('end', done);
    setTimeout(done, 3000);
  });
}

// A chat client that queues incoming JSON events.
function client(opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/chat`, opts);
    const queue = [], waiters = [];
    ws.on('message', (d, isBinary) => {
      const m = JSON.parse(d.toString());
      if (waiters.length) waiters.shift()(m); else queue.push(m);
    });
    ws.next = () => new Promise((res, rej) => {
      if (queue.length) return res(queue.shift());
      const t = setTimeout(() => rej(new Error('no event within 5 s')), 5000);
      waiters.push((m) => { clearTimeout(t); res(m); });
    });
    ws.json = (o) => ws.send(JSON.stringify(o));
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

async function main() {
  let r = await get('/');
  check('GET / -> 200 html page', r.status === 200 && /text\/html/.test(r.headers['content-type']) && r.body.includes('<title>'), r.status);
  r = await get('/nope');
  check('GET /nope -> 404', r.status === 404, r.status);
  r = await get('/', 'POST');
  check('POST / -> 405', r.status === 405, r.status);
  r = await get('/chat');
  check('GET /chat without Upgrade -> 400 from the library', r.status === 400, r.status);

  const alice = await client();
  alice.json({ type: 'join', room: 'r1', name: 'alice' });
  let m = await alice.next();
  check('join: users list to the joiner', m.type === 'users' && m.room === 'r1' && JSON.stringify(m.users) === '["alice"]', JSON.stringify(m));

  const bob = await client({ origin: `http://${base}` });
  check('same-origin browser Origin accepted', true);
  bob.json({ type: 'join', room: 'r1', name: 'bob "the builder" ☃' });
  m = await bob.next();
  check('second join: users list has both', m.type === 'users' && JSON.stringify(m.users.sort()) === JSON.stringify(['alice', 'bob "the builder" ☃']), JSON.stringify(m));
  m = await alice.next();
  check('join broadcast to the room', m.type === 'join' && m.name === 'bob "the builder" ☃' && m.room === 'r1', JSON.stringify(m));

  // Names are unique within a room; the same name in another room is fine.
  const alice2 = await client();
  alice2.json({ type: 'join', room: 'r1', name: 'alice' });
  m = await alice2.next();
  check('a second alice in the room -> error', m.type === 'error' && /name taken/.test(m.error), JSON.stringify(m));
  alice2.json({ type: 'join', room: 'r-two', name: 'alice' });
  m = await alice2.next();
  check('alice in another room is fine', m.type === 'users' && m.room === 'r-two', JSON.stringify(m));
  alice2.close(1000);

  // A name cannot forge log lines (run.sh checks the log).
  const mallory = await client();
  mallory.json({ type: 'join', room: 'forge', name: 'mal\njoin room=r1 name=admin' });
  m = await mallory.next();
  check('a name with a newline joins (and is escaped in the log)', m.type === 'users', JSON.stringify(m));
  mallory.close(1000);

  const carol = await client();
  carol.json({ type: 'join', room: 'other', name: 'carol' });
  m = await carol.next();
  check('other room: alone', m.type === 'users' && m.users.length === 1, JSON.stringify(m));

  const tricky = 'quote " backslash \\ newline \n tab \t ctrl \u0001 unicode ü ✓ 𝄞 </script>';
  alice.json({ type: 'message', text: tricky });
  m = await bob.next();
  check('message broadcast with escaping round trip', m.type === 'message' && m.name === 'alice' && m.text === tricky, JSON.stringify(m));
  // \u escapes including a surrogate pair, sent raw.
  alice.send('{"type":"message","text":"\\u00e9\\ud834\\udd1e\\/"}');
  m = await bob.next();
  check('\\u escapes and surrogate pairs decoded', m.text === 'é𝄞/', JSON.stringify(m));

  alice.send('{"type":"message","text":"unterminated}');
  m = await alice.next();
  check('malformed JSON -> error event', m.type === 'error', JSON.stringify(m));
  alice.json({ type: 'message', text: 'x'.repeat(5000) });
  m = await alice.next();
  check('oversized text -> error event', m.type === 'error', JSON.stringify(m));
  for (const bogus of ['{"type":"message","text":"x","f":tru}', '{"type":"message","text":"x","f":nul}',
                       '{"type":"message","text":"x","f":falsey}', '{"type":"message","text":"x","f":1e+e}',
                       '{"type":"message","text":"x","f":\u0000}', '{"type":"message","text":"x"}\u0000']) {
    alice.send(bogus);
    m = await alice.next();
    check(`bogus JSON refused: ${JSON.stringify(bogus)}`, m.type === 'error', JSON.stringify(m));
  }

  const bobClosed = new Promise((res) => bob.once('close', (code) => res(code)));
  bob.close(1000);
  m = await alice.next();
  check('leave broadcast on close', m.type === 'leave' && m.name === 'bob "the builder" ☃', JSON.stringify(m));
  check('bob closed 1000', (await bobClosed) === 1000);

  // Carol got nothing from room r1: her next event is the answer to this.
  carol.json({ type: 'bogus' });
  m = await carol.next();
  check('rooms are separate', m.type === 'error' && m.error === 'unknown type', JSON.stringify(m));

  // Cross-site WebSocket hijacking: a foreign Origin is refused with 403.
  const refused = await new Promise((res) => {
    const ws = new WebSocket(`ws://${base}/chat`, { origin: 'http://evil.example' });
    ws.on('unexpected-response', (req, resp) => res(resp.statusCode));
    ws.on('open', () => res('open'));
    ws.on('error', () => {});
  });
  check('foreign Origin -> 403', refused === 403, refused);

  // Upgrade bytes sent together with the first frame (leftover after the head).
  const early = await new Promise((res) => {
    const s = net.connect(port, '127.0.0.1', () => {
      const mask = Buffer.from([1, 2, 3, 4]);
      const payload = Buffer.from(JSON.stringify({ type: 'join', room: 'early', name: 'eve' }));
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
      s.write(Buffer.concat([
        Buffer.from(`GET /chat HTTP/1.1\r\nHost: ${base}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
        Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    });
    let data = Buffer.alloc(0);
    s.on('data', (d) => {
      data = Buffer.concat([data, d]);
      const i = data.indexOf('\r\n\r\n');
      if (i >= 0 && data.length >= i + 4 + 2 && data.length >= i + 6 + data[i + 5]) {
        s.destroy();
        res({ head: data.subarray(0, i).toString(), frame: data.subarray(i + 6, i + 6 + data[i + 5]).toString() });
      }
    });
    setTimeout(() => { s.destroy(); res({ head: data.toString(), frame: '' }); }, 3000);
  });
  check('frame sent with the upgrade request is processed (leftover bytes)',
        early.head.startsWith('HTTP/1.1 101') && JSON.parse(early.frame || '{}').type === 'users', JSON.stringify(early));

  // RFC 6455 4.1: the upgrade must be HTTP/1.1 or later.
  for (const version of ['HTTP/1.0', 'HTTP/1.x', 'HTTP/0.9']) {
    const head = await rawRequest(`GET /chat ${version}\r\nHost: ${base}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                                  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    check(`GET /chat ${version} is refused`, /^HTTP\/1\.1 [45]\d\d /.test(head), head.split('\r\n')[0]);
  }
  const ok11 = await rawRequest(`GET /chat HTTP/1.1\r\nHost: ${base}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                                'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  check('GET /chat HTTP/1.1 is accepted', ok11.startsWith('HTTP/1.1 101'), ok11.split('\r\n')[0]);

  alice.close(1000);
  carol.close(1000);
  console.log(`chat_server: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { console.log(`FAIL exception: ${e.stack || e}`); process.exit(1); });
