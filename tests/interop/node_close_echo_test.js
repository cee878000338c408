// The close reason is echoed: a Node `ws` client closes with (4321, 'bye
// now') and must see both in the server's close frame, within a second,
// without an error.
//   node node_close_echo_test.js ws://127.0.0.1:PORT/
'use strict';
const WebSocket = require('ws');
const ws = new WebSocket(process.argv[2]);
const timer = setTimeout(() => {
  console.log('FAIL no close within 5 s');
  process.exit(1);
}, 5000);
let sentAt = 0;
let errored = null;
ws.on('open', () => {
  sentAt = Date.now();
  ws.close(4321, 'bye now');
});
ws.on('error', (e) => { errored = e.message; });
ws.on('close', (code, reason) => {
  clearTimeout(timer);
  const ms = Date.now() - sentAt;
  const ok = code === 4321 && reason.toString() === 'bye now' && !errored && ms < 1000;
  console.log(`${ok ? 'ok  ' : 'FAIL'} close echoed: ${code} "${reason}" in ${ms} ms` +
              (errored ? ` (error: ${errored})` : ''));
  process.exit(ok ? 0 : 1);
});
