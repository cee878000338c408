// The uWebSockets echo server of `make bench-e2e` (server "uws"): uWS v20's
// C++ core (HTTP, WebSocket parser, event loop, corked writes) through
// uWebSockets.js, every message sent back as the same type by a JavaScript
// handler. A C++ uWS server would skip the call into JavaScript per message,
// so this is an upper bound on uWS's own cost. Compression off, no idle
// timeout, limits far above the benchmark's messages.
//   node uws_echo.js [PORT]   prints "listening on ws://127.0.0.1:PORT/"
'use strict';
const uWS = require('uwebsockets');

uWS.App()
  .ws('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: 16 << 20,
    maxBackpressure: 64 << 20,
    idleTimeout: 0,
    message: (ws, message, isBinary) => { ws.send(message, isBinary); },
  })
  .listen('127.0.0.1', Number(process.argv[2] || 0), (token) => {
    if (!token) {
      console.error('uws_echo: listen failed');
      process.exit(1);
    }
    console.log(`listening on ws://127.0.0.1:${uWS.us_socket_local_port(token)}/`);
  });
