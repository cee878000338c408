// Node `ws` echo server: the peer for ws_client and client_matrix.
//   node node_echo_server.js            prints "listening PORT" (127.0.0.1, free port)
//   node node_echo_server.js CERT KEY   the same over TLS (wss://), PEM files
//   WS_DEFLATE='{"serverNoContextTakeover":true}' node node_echo_server.js
//       accepts permessage-deflate with those options of ws's perMessageDeflate
//       ('{}' for its defaults), compressing every message (threshold 0)
// Echoes every message as the same type, except text commands:
//   cmd:close CODE REASON   close with that code and reason
//   cmd:ping PAYLOAD        send a ping; when its pong arrives, reply "pong:PAYLOAD"
//   cmd:fragments           send one text message in three frames ("frag-€-end",
//                           the euro sign split across frames)
//   cmd:protocol            reply "protocol:" + the negotiated subprotocol
//   cmd:header NAME         reply "header:" + that request header's value
//   cmd:extensions          reply "extensions:" + the agreed permessage-deflate
//                           parameters as JSON, or "extensions:none"
//   cmd:bigfragments        send "0123456789" x 20000 as one text message in
//                           four frames
// Prints "closed CODE REASON" when a connection closes, then "traffic in=N
// out=M": the bytes read and written on its socket.
'use strict';
const WebSocket = require('ws');

const fs = require('fs');
const https = require('https');

const tls = process.argv.length >= 4;
const deflate = process.env.WS_DEFLATE ? { threshold: 0, ...JSON.parse(process.env.WS_DEFLATE) } : false;
const server = tls
  ? https.createServer({ cert: fs.readFileSync(process.argv[2]), key: fs.readFileSync(process.argv[3]) })
  : null;
const wss = new WebSocket.WebSocketServer({
  ...(tls ? { server } : { host: '127.0.0.1', port: 0 }),
  maxPayload: 64 << 20,
  perMessageDeflate: deflate,
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
      } else if (cmd === 'extensions') {
        const pmd = ws._extensions['permessage-deflate'];
        ws.send(`extensions:${pmd ? JSON.stringify(pmd.params) : 'none'}`);
      } else if (cmd === 'bigfragments') {
        const big = Buffer.from('0123456789'.repeat(20000));
        for (let i = 0; i < 4; i++) ws.send(big.subarray(i * 50000, (i + 1) * 50000), { binary: false, fin: i === 3 });
      } else if (cmd === 'header') {
        ws.send(`header:${req.headers[arg.toLowerCase()] || ''}`);
      } else {
        ws.send(`unknown command ${cmd}`);
      }
      return;
    }
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code, reason) => {
    console.log(`closed ${code} ${reason.toString()}`);
    console.log(`traffic in=${ws._socket.bytesRead} out=${ws._socket.bytesWritten}`);
  });
});
