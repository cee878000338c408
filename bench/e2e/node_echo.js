// The Node `ws` echo server of `make bench-e2e`: every message goes back as
// the same type. Default `ws` server settings (no permessage-deflate, no
// bufferutil/utf-8-validate add-ons unless NODE_PATH provides them).
//   node node_echo.js [PORT]   prints "listening on ws://127.0.0.1:PORT/"
'use strict';
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0) });
wss.on('listening', () => console.log(`listening on ws://127.0.0.1:${wss.address().port}/`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // a peer that vanishes is not the server's failure
});
