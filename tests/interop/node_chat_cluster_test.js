// Three chat_server nodes joined through Redis, checked with Node ws clients.
//   node node_chat_cluster_test.js PORT1,PORT2,PORT3 PID3 TTL_MS REDIS_PIDFILE REDIS_CMD...
// PID3 is the third node (killed with SIGKILL mid-test); REDIS_CMD starts
// the Redis server again after this script killed it (its pid goes to
// REDIS_PIDFILE, so run.sh can stop it at the end).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const WebSocket = require('ws');

const ports = process.argv[2].split(',').map(Number);
const pid3 = Number(process.argv[3]);
const ttl = Number(process.argv[4]);
const redisPidFile = process.argv[5];
const redisCmd = process.argv.slice(6);
let passed = 0, failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name}${detail !== undefined ? ': ' + detail : ''}`); }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A chat client on node n (0..2) that queues incoming JSON events.
function client(n) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${ports[n]}/chat`);
    const queue = [], waiters = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (waiters.length) waiters.shift()(m); else queue.push(m);
    });
    // The next event, or null after `ms`.
    ws.next = (ms = 5000) => new Promise((res) => {
      if (queue.length) return res(queue.shift());
      const w = (m) => { clearTimeout(t); res(m); };
      const t = setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) waiters.splice(i, 1); res(null); }, ms);
      waiters.push(w);
    });
    // The next event that matches, skipping others, or null.
    ws.until = async (pred, ms = 5000) => {
      const end = Date.now() + ms;
      for (;;) {
        const left = end - Date.now();
        if (left <= 0) return null;
        const m = await ws.next(left);
        if (!m || pred(m)) return m;
      }
    };
    ws.drain = () => queue.splice(0);
    ws.json = (o) => ws.send(JSON.stringify(o));
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

async function join(n, room, name) {
  const ws = await client(n);
  ws.json({ type: 'join', room, name });
  const m = await ws.next();
  if (!m || m.type !== 'users') throw new Error(`${name} could not join ${room} on node ${n + 1}: ${JSON.stringify(m)}`);
  ws.users = m.users;
  return ws;
}

function startRedis() {
  const p = spawn(redisCmd[0], redisCmd.slice(1), { stdio: 'ignore', detached: false });
  fs.writeFileSync(redisPidFile, String(p.pid));
  return p;
}

function redisUp(port) {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
    s.on('error', () => res(false));
  });
}

async function main() {
  const t0 = Date.now();
  // User lists across nodes.
  const alice = await join(0, 'lobby', 'alice');
  const bob = await join(1, 'lobby', 'bob');
  const carol = await join(2, 'lobby', 'carol');
  check('user lists across nodes: carol (node 3) sees alice (1) and bob (2)',
        JSON.stringify([...carol.users].sort()) === '["alice","bob","carol"]', JSON.stringify(carol.users));
  let m = await alice.until((e) => e.type === 'join' && e.name === 'carol');
  check('alice (node 1) is told carol joined on node 3', m !== null);
  await bob.until((e) => e.type === 'join' && e.name === 'carol');
  alice.drain();

  // Room isolation.
  const dave = await join(1, 'other', 'dave');
  check('another room lists only its own', JSON.stringify(dave.users) === '["dave"]', JSON.stringify(dave.users));

  // 50 messages in order across nodes, none back to the sender.
  for (let i = 0; i < 50; i++) alice.json({ type: 'message', text: `m${i}` });
  for (const [who, ws] of [['bob (node 2)', bob], ['carol (node 3)', carol]]) {
    const got = [];
    for (let i = 0; i < 50; i++) {
      const e = await ws.until((x) => x.type === 'message');
      if (!e) break;
      got.push(e.name === 'alice' ? e.text : `?${e.name}`);
    }
    check(`${who} gets alice's 50 messages once each, in order`,
          got.length === 50 && got.every((t, i) => t === `m${i}`), got.slice(0, 5).join(',') + ` (${got.length})`);
  }
  check('the sender gets nothing back', (await alice.until((e) => e.type === 'message', 300)) === null);
  check('a member of another room gets nothing', (await dave.until((e) => e.type === 'message', 100)) === null);

  // Names are unique within a room across nodes.
  const alice3 = await client(2);
  alice3.json({ type: 'join', room: 'lobby', name: 'alice' });
  m = await alice3.next();
  check('a second alice on node 3 gets an error', m && m.type === 'error' && /name taken/.test(m.error), JSON.stringify(m));
  alice3.close(1000);
  // Two nodes racing for the same new name: exactly one wins.
  const [z1, z2] = await Promise.all([client(0), client(1)]);
  z1.json({ type: 'join', room: 'lobby', name: 'zed' });
  z2.json({ type: 'join', room: 'lobby', name: 'zed' });
  const [r1, r2] = await Promise.all([z1.next(), z2.next()]);
  check('two nodes racing for "zed": one users, one error',
        [r1.type, r2.type].sort().join() === 'error,users', `${r1.type} ${r2.type}`);
  z1.close(1000);
  z2.close(1000);

  // Leave across nodes.
  bob.close(1000);
  m = await alice.until((e) => e.type === 'leave' && e.name === 'bob');
  check('bob leaves on node 2: alice (node 1) is told', m !== null);
  m = await carol.until((e) => e.type === 'leave' && e.name === 'bob');
  check('... and carol (node 3)', m !== null);

  // A node killed with SIGKILL: its users leave every list within the bound.
  const erin = await join(2, 'lobby', 'erin');
  await alice.until((e) => e.type === 'join' && e.name === 'erin');
  void erin;
  const tKill = Date.now();
  process.kill(pid3, 'SIGKILL');
  const bound = Math.ceil(ttl * 5 / 3) + 1000;
  const left = new Set();
  while (left.size < 2 && Date.now() - tKill < bound + 2000) {
    m = await alice.until((e) => e.type === 'leave', bound + 2000 - (Date.now() - tKill));
    if (!m) break;
    left.add(m.name);
  }
  const dt = Date.now() - tKill;
  check(`node 3 killed: carol and erin leave within ${bound} ms (took ${dt} ms)`,
        left.has('carol') && left.has('erin') && dt <= bound, [...left].join());
  const late = await join(1, 'lobby', 'late');
  check('a newcomer no longer lists the dead node\'s users', !late.users.includes('carol') && !late.users.includes('erin'),
        JSON.stringify(late.users));

  // Redis killed and restarted: local delivery goes on, cross-node resumes.
  const frank = await join(0, 'lobby', 'frank');
  await alice.until((e) => e.type === 'join' && e.name === 'frank');
  await late.until((e) => e.type === 'join' && e.name === 'frank');
  const redisPid = Number(fs.readFileSync(redisPidFile, 'utf8'));
  const redisPort = Number(redisCmd[redisCmd.indexOf('--port') + 1]);
  process.kill(redisPid, 'SIGKILL');
  await sleep(500);
  alice.drain();
  frank.drain();
  alice.json({ type: 'message', text: 'while redis is away' });
  m = await frank.until((e) => e.type === 'message');
  check('Redis down: a member on the same node still gets the message', m && m.text === 'while redis is away', JSON.stringify(m));
  m = await alice.until((e) => e.type === 'error');
  check('Redis down: the sender is told it did not reach other servers', m && /not delivered to other servers/.test(m.error), JSON.stringify(m));
  check('Redis down: nothing reaches node 2', (await late.until((e) => e.type === 'message', 300)) === null);
  // ... and local delivery keeps going while Redis is away.
  let localOk = true;
  for (let i = 0; i < 10; i++) {
    frank.json({ type: 'message', text: `local ${i}` });
    const e = await alice.until((x) => x.type === 'message', 2000);
    if (!e || e.text !== `local ${i}`) localOk = false;
  }
  check('Redis down: 10 more local messages delivered in order', localOk);
  startRedis();
  for (let i = 0; i < 50 && !(await redisUp(redisPort)); i++) await sleep(100);
  const tUp = Date.now();
  let resumed = null;
  for (let i = 0; !resumed && Date.now() - tUp < 20000; i++) {
    alice.json({ type: 'message', text: `probe ${i}` });
    resumed = await late.until((e) => e.type === 'message', 250);
  }
  check(`Redis restarted: cross-node delivery resumes by itself (${Date.now() - tUp} ms)`, resumed !== null);
  // After the restart the lists are whole again.
  const newcomer = await join(1, 'lobby', 'newcomer');
  check('after the restart a newcomer on node 2 lists alice and frank (node 1)',
        newcomer.users.includes('alice') && newcomer.users.includes('frank') && newcomer.users.includes('late'),
        JSON.stringify(newcomer.users));
  // Order across nodes still holds after the restart.
  for (let i = 0; i < 20; i++) frank.json({ type: 'message', text: `after ${i}` });
  const got = [];
  for (let i = 0; i < 20; i++) {
    const e = await newcomer.until((x) => x.type === 'message' && x.name === 'frank');
    if (!e) break;
    got.push(e.text);
  }
  check('after the restart: 20 messages in order across nodes', got.length === 20 && got.every((t, i) => t === `after ${i}`), got.join());

  for (const ws of [alice, carol, dave, late, frank, newcomer]) ws.terminate();
  console.log(`chat cluster: ${passed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exit(failed ? 1 : 0);
}
main().catch((e) => { console.log(`FAIL exception: ${e.stack || e}`); process.exit(1); });
