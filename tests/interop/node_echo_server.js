// Node `ws` echo server: the peer for ws_client and client_matrix.
//   node node_echo_server.js            prints "listening PORT" (127.0.0.1, free port)
//   node node_echo_server.js CERT KEY   the same over TLS (wss://), PEM files
// Echoes every message as the same type, except text commands:
//   cmd:close CODE REASON   close with that code and reason
//   cmd:ping PAYLOAD        send a ping; when its pong arrives, reply "pong:PAYLOAD"
//   cmd:fragments           send one text message in three frames ("frag-€-end",
//                           the euro sign split across frames)
//   cmd:protocol            reply "protocol:" + the negotiated subprotocol
//   cmd:header NAME         reply "header:" + that request header's value
// Prints "closed CODE REASON" when a connection closes.
'use strict';
const WebSocket = require('ws');

const fs = require('fs');
const https = require('https');

const tls = process.argv.length >= 4;
const server = tls
  ? https.createServer({ cert: fs.readFileSync(process.argv[2]), key: fs.readFileSync(process.argv[3]) })
  : null;
const wss = new WebSocket.WebSocketServer({
  ...(tls ? { server } : { host: '127.0.0.1', port: 0 }),
  maxPayload: 64 << 20,
  handleProtocols: (protocols) => (protocols.has('chat') ? 'chat' : false),
});
if (tls) server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
else wss.on('listening', () => console.log(`listening ${wss.address().port}`));
wss.on('connection', (ws, req) => {
  ws.on('message', (data, isBinary) => {
    const text = !isBinary ? data.toString('utf8') : null;
    if (text !== null && text.startsWith('cmd:')) {
      const [cmd, ...rest] = text.slice(4).split(' ');
      const arg = rest.join(' ');
      if (cmd === 'close') {
        const sp = arg.indexOf(' ');
        ws.close(Number(sp < 0 ? arg : arg.slice(0, sp)), sp < 0 ? '' : arg.slice(sp + 1));
      } else if (cmd === 'ping') {
        ws.once('pong', (p) => ws.send(`pong:${p.toString()}`));
        ws.ping(arg);
      } else if (cmd === 'fragments') {
        const euro = Buffer.from('€');
        ws.send(Buffer.concat([Buffer.from('frag-'), euro.subarray(0, 2)]), { binary: false, fin: false });
        ws.send(euro.subarray(2), { binary: false, fin: false });
        ws.send(Buffer.from('-end'), { binary: false, fin: true });
      } else if (cmd === 'protocol') {
        ws.send(`protocol:${ws.protocol}`);
      } else if (cmd === 'header') {
        ws.send(`header:${req.headers[arg.toLowerCase()] || ''}`);
      } else {
        ws.send(`unknown command ${cmd}`);
      }
      return;
    }
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code, reason) => console.log(`closed ${code} ${reason.toString()}`));
});
