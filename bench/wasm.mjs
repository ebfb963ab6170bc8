// Size and speed of the WebAssembly build (numbers for BENCHMARKS.md):
//   - size of wasm/pkg/dplint_wasm_bg.wasm, raw and gzip -9;
//   - time to first result in Chromium: navigation start → first report rendered, for a page
//     opened with a shared link (content in the fragment), fresh browser context each run;
//   - throughput in Chromium against the native CLI on one core (`dplint check -j1`), same bytes,
//     same run: ../shared/corpus/raw (when present) and examples/.
// Usage: bench/wasm.sh (builds what it needs), or node bench/wasm.mjs after wasm/build.sh and
// cargo build --release -p dplint.
import { createRequire } from 'node:module';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, lstatSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../wasm/test/helpers.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'wasm', 'package.json'));
const { chromium } = require('playwright-core');
const RUNS = Number(process.env.RUNS ?? 7);
const NATIVE = process.env.DPLINT_BIN ?? join(ROOT, 'target', 'release', 'dplint');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function walk(dir, out = []) {
  const names = readdirSync(join(ROOT, dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = `${dir}/${name}`;
    if (lstatSync(join(ROOT, path)).isDirectory()) walk(path, out);
    else if (/\.(ya?ml|json)$/i.test(name)) out.push(path);
  }
  return out;
}

const roots = existsSync(join(ROOT, '../shared/corpus/raw')) ? ['../shared/corpus/raw', 'examples'] : ['examples'];
const files = roots.flatMap((r) => walk(r)).map((name) => ({ name, content: readFileSync(join(ROOT, name), 'utf8') }));
const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.content), 0);

// --- size
const wasm = readFileSync(join(ROOT, 'wasm/pkg/dplint_wasm_bg.wasm'));
const gz = gzipSync(wasm, { level: 9 }).length;

// --- native, one core
const nativeArgs = ['check', '-j1', '--format', 'json', '--no-config', ...roots];
const nativeTimes = [];
let nativeOut;
for (let i = 0; i < RUNS; i++) {
  const t = process.hrtime.bigint();
  const r = spawnSync('taskset', ['-c', '0', NATIVE, ...nativeArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30 });
  nativeTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
  nativeOut = r.stdout;
}

// --- Chromium
const server = await serveStatic(join(ROOT, 'wasm/web'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const sample = readFileSync(join(ROOT, 'examples/kube-system/kube-proxy.yaml'), 'utf8');
const hash = '#s=' + Buffer.from(JSON.stringify({ f: [['kube-proxy.yaml', sample]] })).toString('base64url');
const firsts = [];
const readies = [];
for (let i = 0; i < RUNS; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/index.html${hash}`);
  await page.waitForFunction(() => window.__dplintTiming?.firstResult !== undefined, null, { timeout: 30000 });
  const t = await page.evaluate(() => window.__dplintTiming);
  firsts.push(t.firstResult);
  readies.push(t.wasmReady);
  await context.close();
}

const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${server.url}/index.html`);
await page.waitForFunction(() => ['ready', 'empty'].includes(document.body.dataset.state));
const inPage = await page.evaluate(
  async ({ files, runs }) => {
    const m = await import('./dplint/web.js');
    await m.init();
    const times = [];
    let json;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      json = m.run(files, { origin: 'cli' }).reportJson;
      times.push(performance.now() - t);
    }
    return { times, json };
  },
  { files, runs: RUNS },
);
await browser.close();
await server.close();

const nodeApi = await import('../wasm/pkg/node.js');
const nodeTimes = [];
for (let i = 0; i < RUNS; i++) {
  const t = process.hrtime.bigint();
  nodeApi.run(files, { origin: 'cli' });
  nodeTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
}

const nativeMs = median(nativeTimes);
const chromiumMs = median(inPage.times);
const nodeMs = median(nodeTimes);
const mb = bytes / 1e6;
const result = {
  date: new Date().toISOString(),
  machine: `${execFileSync('nproc').toString().trim()} cores, ${process.version}, chromium ${browser.version?.() ?? ''}`.trim(),
  input: { roots, files: files.length, bytes },
  sameReport: inPage.json === nativeOut,
  wasmBytes: wasm.length,
  wasmGzipBytes: gz,
  chromium: { wasmReadyMs: median(readies), firstResultMs: median(firsts) },
  throughput: {
    nativeOneCoreMs: nativeMs,
    chromiumMs,
    nodeMs,
    nativeMBps: mb / (nativeMs / 1000),
    chromiumMBps: mb / (chromiumMs / 1000),
    chromiumToNative: chromiumMs / nativeMs,
    nodeToNative: nodeMs / nativeMs,
  },
};
console.log(JSON.stringify(result, null, 2));
