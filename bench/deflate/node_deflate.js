// Node `ws`'s permessage-deflate (ws/lib/permessage-deflate.js, the code a
// ws server runs per message) on the corpus bench_deflate writes, with the
// same zlib level, window and memLevel: the other side of
// bench/deflate/compare.sh.
//
//   node node_deflate.js --corpus PREFIX [--levels 1,6] [--window 15]
//                        [--mem-level 4] [--min-time 0.3] [--tsv]
//
// PREFIX.chat and PREFIX.text64k come from `ws6455-bench-deflate
// --write-corpus PREFIX` (each message: a 4-byte big-endian length, then its
// bytes). Modes: "no-takeover" (ws resets its zlib stream after each
// message: server_no_context_takeover) and "takeover". Each message is
// compressed as a server sends it (PerMessageDeflate#compress, fin), then
// decompressed as a client receives it (#decompress), one at a time, each
// awaited: what ws does per message, its callbacks and zlib's thread pool
// included. A third mode, "zlib-sync", is a reference for how much of
// that is zlib itself: node's zlib.deflateRawSync/inflateRawSync per
// message (a fresh zlib state each, as ws6455's no-takeover) with no
// stream, callback or thread pool. Times are the process's CPU time
// (process.cpuUsage(): every thread, as a server pays it); the first pass
// checks every message round-trips. Columns as bench_deflate's.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

// ws from NODE_PATH (bench/deflate/compare.sh sets it), else from the
// installs of the e2e bench or the interop tests. Its package "exports"
// hide ws/lib/, so the file is required by its path.
function wsDir() {
  const tries = [null, '../../build/bench/e2e/node/node_modules/ws', '../../build/interop/node_modules/ws'];
  for (const t of tries) {
    try {
      return path.dirname(require.resolve(t ? path.join(__dirname, t) : 'ws'));
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error('cannot find ws (npm install ws@8, then NODE_PATH=.../node_modules)');
}
const WS_DIR = wsDir();
const PerMessageDeflate = require(path.join(WS_DIR, 'lib', 'permessage-deflate.js'));
const wsVersion = JSON.parse(fs.readFileSync(path.join(WS_DIR, 'package.json'), 'utf8')).version;

const opt = { corpus: null, levels: [1, 3, 6, 9], window: 15, memLevel: 4, minTime: 0.3, tsv: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = process.argv[i + 1];
  if (a === '--corpus') opt.corpus = v, i++;
  else if (a === '--levels') opt.levels = v.split(',').map(Number), i++;
  else if (a === '--window') opt.window = Number(v), i++;
  else if (a === '--mem-level') opt.memLevel = Number(v), i++;
  else if (a === '--min-time') opt.minTime = Number(v), i++;
  else if (a === '--tsv') opt.tsv = true;
  else {
    console.error('usage: node node_deflate.js --corpus PREFIX [--levels 1,6] [--window 15] [--mem-level 4] [--min-time 0.3] [--tsv]');
    process.exit(2);
  }
}
if (!opt.corpus) {
  console.error('node_deflate.js: --corpus PREFIX is required (ws6455-bench-deflate --write-corpus PREFIX)');
  process.exit(2);
}

function readCorpus(name) {
  const b = fs.readFileSync(`${opt.corpus}.${name}`);
  const msgs = [];
  let total = 0;
  for (let off = 0; off < b.length;) {
    const n = b.readUInt32BE(off);
    msgs.push(b.subarray(off + 4, off + 4 + n));
    off += 4 + n;
    total += n;
  }
  return { name, msgs, total };
}

// One endpoint's PerMessageDeflate with the agreed parameters set directly
// (what accept() leaves after a handshake).
function endpoint(isServer, takeover, level) {
  const pmd = new PerMessageDeflate({
    isServer,
    threshold: 0,
    concurrencyLimit: 1,
    zlibDeflateOptions: { level, memLevel: opt.memLevel },
  });
  pmd.params = {
    server_no_context_takeover: !takeover,
    client_no_context_takeover: !takeover,
    server_max_window_bits: opt.window,
    client_max_window_bits: opt.window,
  };
  return pmd;
}

const call = (pmd, fn, data) =>
  new Promise((resolve, reject) => pmd[fn](data, true, (err, out) => (err ? reject(err) : resolve(out))));

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function compressAll(ds, takeover, level) {
  const pmd = endpoint(true, takeover, level);
  const out = [];
  for (const m of ds.msgs) out.push(await call(pmd, 'compress', m));
  pmd.cleanup();
  return out;
}

async function decompressAll(ds, takeover, comp, verify) {
  const pmd = endpoint(false, takeover, 6);
  for (let i = 0; i < comp.length; i++) {
    const d = await call(pmd, 'decompress', comp[i]);
    if (verify && Buffer.compare(d, ds.msgs[i]) !== 0) throw new Error(`${ds.name} message ${i} differs after a round trip`);
  }
  pmd.cleanup();
}

// The zlib-sync reference: what zlib alone costs per message in node.
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);
function syncCompressAll(ds, level) {
  const o = { level, memLevel: opt.memLevel, windowBits: opt.window, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  return ds.msgs.map((m) => {
    const c = zlib.deflateRawSync(m, o);
    return c.subarray(0, c.length - 4);
  });
}
function syncDecompressAll(ds, comp, verify) {
  const o = { windowBits: opt.window, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  comp.forEach((c, i) => {
    const d = zlib.inflateRawSync(Buffer.concat([c, TAIL]), o);
    if (verify && Buffer.compare(d, ds.msgs[i]) !== 0) throw new Error(`${ds.name} message ${i} differs (zlib-sync)`);
  });
}

// Passes until minTime CPU seconds have gone by; CPU seconds per pass.
async function timed(fn) {
  let passes = 0;
  const t0 = cpuSeconds();
  let t;
  do {
    await fn();
    passes++;
    t = cpuSeconds() - t0;
  } while (t < opt.minTime);
  return t / passes;
}

async function runDataset(ds) {
  if (!opt.tsv) {
    console.log(`\n${ds.name}: ${ds.msgs.length} messages, ${(ds.total / ds.msgs.length).toFixed(1)} bytes on average, ${ds.total} bytes in all`);
    console.log(`${'mode'.padEnd(12)} ${'level'.padStart(5)} ${'ratio'.padStart(7)} ${'deflate MB/s'.padStart(12)} ${'us/msg'.padStart(10)} ${'inflate MB/s'.padStart(12)} ${'us/msg'.padStart(10)}`);
  }
  const n = ds.msgs.length;
  const report = (mode, level, size, tc, ti) => {
    const ratio = size / ds.total;
    if (opt.tsv) {
      console.log([ds.name, mode, level, ratio.toFixed(4), (tc / n * 1e6).toFixed(3), (ti / n * 1e6).toFixed(3)].join('\t'));
    } else {
      console.log(`${mode.padEnd(12)} ${String(level).padStart(5)} ${ratio.toFixed(3).padStart(7)} ${(ds.total / tc / 1e6).toFixed(1).padStart(12)} ${(tc / n * 1e6).toFixed(2).padStart(10)} ${(ds.total / ti / 1e6).toFixed(1).padStart(12)} ${(ti / n * 1e6).toFixed(2).padStart(10)}`);
    }
  };
  const sizeOf = (comp) => comp.reduce((s, b) => s + b.length, 0);
  for (const level of opt.levels) {
    for (const takeover of [false, true]) {
      const comp = await compressAll(ds, takeover, level);
      await decompressAll(ds, takeover, comp, true); // verified, untimed
      const tc = await timed(() => compressAll(ds, takeover, level));
      const ti = await timed(() => decompressAll(ds, takeover, comp, false));
      report(takeover ? 'takeover' : 'no-takeover', level, sizeOf(comp), tc, ti);
    }
    const comp = syncCompressAll(ds, level);
    syncDecompressAll(ds, comp, true);
    const tc = await timed(async () => syncCompressAll(ds, level));
    const ti = await timed(async () => syncDecompressAll(ds, comp, false));
    report('zlib-sync', level, sizeOf(comp), tc, ti);
  }
}

async function main() {
  const head = `ws ${wsVersion}\tnode ${process.versions.node}\tzlib ${process.versions.zlib}\twindow ${opt.window}\tmemLevel ${opt.memLevel}`;
  if (opt.tsv) console.log(`# node\t${head}`);
  else console.log(`Node ws permessage-deflate, ${head.replace(/\t/g, ', ')}, min ${opt.minTime} CPU s per figure`);
  for (const name of ['chat', 'text64k']) {
    if (fs.existsSync(`${opt.corpus}.${name}`)) await runDataset(readCorpus(name));
  }
}
main().catch((e) => {
  console.error(`node_deflate.js: ${e.message}`);
  process.exit(1);
});
