const WebSocket = require('./nodews/node_modules/ws');
const ws = new WebSocket('ws://127.0.0.1:9200/chat?room=1', ['chat', 'superchat'], {origin: 'http://127.0.0.1:9200'});
let step = 0;
ws.on('open', () => { ws.send('Hello from node'); });
ws.on('message', () => {
  step++;
  if (step === 1) ws.send(Buffer.from([0, 1, 2, 255, 254]));
  else if (step === 2) ws.send('\u00e9\u20ac\u{1F600}'.repeat(50));
  else if (step === 3) { ws.ping('p'); ws.send(Buffer.alloc(300, 7)); }
  else if (step === 4) ws.send('x'.repeat(70000));
  else ws.close(1001, 'going away');
});
ws.on('close', () => process.exit(0));
setTimeout(() => process.exit(1), 5000);
