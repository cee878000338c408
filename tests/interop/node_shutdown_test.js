// Graceful shutdown: N clients connect to echo_server, print "ready", and
// expect the server's close 1001 "server shutting down" once it gets SIGTERM.
//   node node_shutdown_test.js ws://127.0.0.1:PORT/ [N]
'use strict';
const WebSocket = require('ws');
const url = process.argv[2];
const n = Number(process.argv[3] || 3);
let open = 0;
let good = 0;
let done = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url);
  ws.on('open', () => { if (++open === n) console.log('ready'); });
  ws.on('error', (e) => console.log(`FAIL client ${i}: ${e.message}`));
  ws.on('close', (code, reason) => {
    const ok = code === 1001 && reason.toString() === 'server shutting down';
    console.log(`${ok ? 'ok  ' : 'FAIL'} client ${i} closed: ${code} "${reason}"`);
    if (ok) good++;
    if (++done === n) process.exit(good === n ? 0 : 1);
  });
}
