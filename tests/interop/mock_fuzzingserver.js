// A stand-in for the Autobahn|Testsuite fuzzing server, enough to exercise
// `ws_client --autobahn`: /getCaseCount, /runCase?case=N&agent=A (each case
// sends messages and expects them echoed), /updateReports?agent=A (prints
// "report: agent=A cases=N passed=M").
// WS_DEFLATE='{}' (options of ws's perMessageDeflate, threshold 0 added)
// accepts permessage-deflate; each case's line then says "deflate=yes" when
// the client's offer was accepted, "deflate=no" when it made none.
'use strict';
const WebSocket = require('ws');
const crypto = require('crypto');

const cases = [
  (ws) => { ws.send('hello autobahn'); return [['hello autobahn', false]]; },
  (ws) => { const b = crypto.randomBytes(1000); ws.send(b); return [[b, true]]; },
  (ws) => {
    ws.send('frag', { fin: false }); ws.send('ment', { fin: false }); ws.send('ed ✓', { fin: true });
    return [['fragmented ✓', false]];
  },
  (ws) => { ws.ping('p'); const b = 'z'.repeat(70000); ws.send(b); ws.send(Buffer.alloc(0)); return [[b, false], [Buffer.alloc(0), true]]; },
];
const results = {};
const deflate = process.env.WS_DEFLATE ? { threshold: 0, ...JSON.parse(process.env.WS_DEFLATE) } : false;
const wss = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
wss.on('connection', (ws, req) => {
  const u = new URL(req.url, 'http://x');
  const agent = u.searchParams.get('agent');
  if (u.pathname === '/getCaseCount') {
    ws.send(String(cases.length));
  } else if (u.pathname === '/runCase') {
    const n = Number(u.searchParams.get('case'));
    const expected = cases[n - 1](ws);
    let ok = true;
    ws.on('message', (data, isBinary) => {
      const [want, wantBinary] = expected.shift() || [null, null];
      const w = Buffer.isBuffer(want) ? want : Buffer.from(String(want));
      if (want === null || isBinary !== wantBinary || Buffer.compare(data, w) !== 0) ok = false;
      if (!expected.length) {
        results[agent] = results[agent] || { cases: 0, passed: 0 };
        results[agent].cases++;
        if (ok) results[agent].passed++;
        const pmd = ws._extensions['permessage-deflate'] ? 'yes' : 'no';
        console.log(`case ${n} agent=${agent} ${ok ? 'passed' : 'FAILED'} deflate=${pmd}`);
        ws.close(1000);
      }
    });
  } else if (u.pathname === '/updateReports') {
    const r = results[agent] || { cases: 0, passed: 0 };
    console.log(`report: agent=${agent} cases=${r.cases} passed=${r.passed}`);
    ws.close(1000);
  } else {
    ws.close(1008, 'unknown path');
  }
});
