// Parity: the npm package (in Node) and the native CLI give identical JSON for every file of the
// shared corpus (../shared/corpus/raw, skipped when absent) and of examples/, file by file and
// as one run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { CORPUS, ROOT, exists, runBin, runNative } from './helpers.mjs';
import { run } from '../pkg/node.js';

const EXTENSIONS = ['yaml', 'yml', 'json'];

/** Files under `dir` in the CLI's order and with the CLI's names (relative to the repo root). */
function walk(dir, out = []) {
  const names = readdirSync(`${ROOT}/${dir}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = dir.endsWith('/') ? dir + name : `${dir}/${name}`;
    const stat = lstatSync(`${ROOT}/${path}`);
    if (stat.isDirectory()) walk(path, out);
    else if (EXTENSIONS.includes(name.split('.').pop().toLowerCase()) && name.includes('.')) out.push(path);
  }
  return out;
}

const roots = ['examples'];
const hasCorpus = exists(CORPUS);
if (hasCorpus) roots.unshift('../shared/corpus/raw');

function picked(report) {
  return { findings: report.findings, summary: report.summary, cluster: report.cluster, target: report.target };
}

function nativeJson(args) {
  const out = runNative(['check', '--format', 'json', '--no-config', ...args]);
  assert.ok(out.status === 0 || out.status === 1, `dplint ${args.join(' ')} exited ${out.status}: ${out.stderr}`);
  return out;
}

test('the shared corpus is present (parity also covers it)', { skip: hasCorpus ? false : '../shared/corpus is absent' }, () => {
  assert.ok(walk('../shared/corpus/raw').length > 0);
});

test('file by file: native CLI and npm package agree byte for byte', () => {
  const files = roots.flatMap((r) => walk(r));
  assert.ok(files.length >= 3, 'found the example files');
  let findings = 0;
  for (const file of files) {
    const cli = nativeJson([file]);
    const wasm = run([{ name: file, content: readFileSync(`${ROOT}/${file}`) }], { origin: 'cli' });
    assert.deepEqual(picked(wasm.report), picked(JSON.parse(cli.stdout)), file);
    assert.equal(wasm.reportJson, cli.stdout, `${file}: JSON text differs`);
    assert.equal(wasm.exitCode, cli.status, `${file}: exit code differs`);
    findings += wasm.report.findings.length;
  }
  assert.ok(findings > 0, 'the inputs produce findings');
});

test('one run over everything: native CLI, npm package and dplint-wasm bin agree', () => {
  const files = roots.flatMap((r) => walk(r));
  const cli = nativeJson(roots);
  const wasm = run(
    files.map((f) => ({ name: f, content: readFileSync(`${ROOT}/${f}`) })),
    { origin: 'cli' },
  );
  const expected = JSON.parse(cli.stdout);
  assert.equal(expected.summary.files, files.length, 'the test walks directories as the CLI does');
  assert.deepEqual(picked(wasm.report), picked(expected));
  assert.equal(wasm.reportJson, cli.stdout);
  const bin = runBin(['check', '--format', 'json', '--no-config', ...roots]);
  assert.equal(bin.status, cli.status);
  assert.equal(bin.stdout, cli.stdout);
});

test('every format and option of the bin matches the CLI byte for byte', () => {
  const cases = [
    ['--format', 'text'],
    ['--format', 'sarif'],
    ['--format', 'junit'],
    ['--format', 'github'],
    ['--format', 'json', '--kubernetes-version', '1.40', '--fail-on', 'warning'],
    ['--format', 'json', '--calico-version', '3.29', '--os', 'windows', '--node-kernel', '5.4.0-1000-aws'],
    ['--format', 'json', '--per-file'],
    ['--format', 'text', '--fail-on', 'never'],
  ];
  for (const args of cases) {
    const cli = runNative(['check', '--no-config', '--color', 'never', ...args, ...roots]);
    const bin = runBin(['check', '--no-config', '--color', 'never', ...args, ...roots]);
    assert.equal(bin.status, cli.status, args.join(' '));
    assert.equal(bin.stdout, cli.stdout, args.join(' '));
  }
});
