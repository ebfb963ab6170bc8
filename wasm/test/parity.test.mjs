// Parity: the npm package (in Node) and the native CLI give identical JSON for every file of the
// shared corpus (../shared/corpus/raw, skipped when absent) and of examples/, file by file and
// as one run; and the same fixes (title, applicability, edits) in the CLI's JSON, check() and
// the SARIF of both; and the same plans (`dplint plan` and plan(), planText(), planMarkdown()) for
// every state of the migration bundles (core/tests/bundles) and examples/, to every target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, lstatSync } from 'node:fs';
import { CORPUS, ROOT, exists, runBin, runNative } from './helpers.mjs';
import { run, plan, planText, planMarkdown } from '../pkg/node.js';

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

/** A fix as SARIF carries it, in the terms SARIF has (no byte offsets): per edit, the file's URI and the region. */
function sarifFixes(result) {
  const fix = result.fixes?.[0];
  if (!fix) return null;
  return {
    title: fix.description.text,
    applicability: fix.properties.applicability,
    edits: fix.artifactChanges.flatMap((change) =>
      change.replacements.map((r) => ({
        uri: change.artifactLocation.uri,
        line: r.deletedRegion.startLine,
        column: r.deletedRegion.startColumn,
        endLine: r.deletedRegion.endLine,
        endColumn: r.deletedRegion.endColumn,
        content: r.insertedContent.text,
      })),
    ),
  };
}

/** The same projection of a report finding's fix; `uri` is how SARIF names the finding's file. */
function findingFix(finding, uri) {
  if (!finding.fix) return null;
  return {
    title: finding.fix.title,
    applicability: finding.fix.applicability,
    edits: finding.fix.edits.map((e) => ({ uri, line: e.line, column: e.column, endLine: e.endLine, endColumn: e.endColumn, content: e.content })),
  };
}

test('fixes: CLI JSON, check() and the SARIF of both carry the same title, applicability and edits', () => {
  const files = roots.flatMap((r) => walk(r));
  let fixes = 0;
  for (const file of files) {
    const input = [{ name: file, content: readFileSync(`${ROOT}/${file}`) }];
    const cli = JSON.parse(nativeJson([file]).stdout).findings;
    const wasm = run(input, { origin: 'cli' }).report.findings;
    assert.deepEqual(wasm.map((f) => f.fix), cli.map((f) => f.fix), `${file}: fixes differ between the CLI and check()`);
    const cliSarif = runNative(['check', '--format', 'sarif', '--no-config', file]);
    assert.ok(cliSarif.status === 0 || cliSarif.status === 1, cliSarif.stderr);
    const wasmSarif = run(input, { origin: 'cli', format: 'sarif' }).output;
    const results = JSON.parse(cliSarif.stdout).runs[0].results;
    assert.deepEqual(JSON.parse(wasmSarif).runs[0].results.map(sarifFixes), results.map(sarifFixes), `${file}: SARIF fixes differ`);
    assert.equal(results.length, cli.length, file);
    cli.forEach((finding, i) => {
      const uri = results[i].locations[0].physicalLocation.artifactLocation.uri;
      assert.equal(results[i].ruleId, finding.code, file);
      assert.deepEqual(sarifFixes(results[i]), findingFix(finding, uri), `${file}: ${finding.code} at line ${finding.line}`);
      if (finding.fix) fixes++;
    });
  }
  assert.ok(fixes > 0, 'the inputs produce findings with fixes');
});

/** Every state of the migration bundles, and examples/: directories of one cluster each. */
function planDirs() {
  const bundles = 'core/tests/bundles';
  const dirs = readdirSync(`${ROOT}/${bundles}`)
    .sort()
    .flatMap((group) => readdirSync(`${ROOT}/${bundles}/${group}`).sort().map((state) => `${bundles}/${group}/${state}`));
  return [...dirs, 'examples'];
}

const PLAN_CASES = [
  { args: [], options: {} },
  { args: ['--calico-version', '3.32'], options: { calicoVersion: '3.32' } },
  { args: ['--node-kernel', '5.4.0-150-generic', '--kubernetes-version', '1.40'], options: { nodeKernels: ['5.4.0-150-generic'], kubernetesVersion: '1.40' } },
];

test('plan: native CLI and plan() give the same JSON byte for byte, and the same text and Markdown', () => {
  const dirs = planDirs();
  assert.ok(dirs.length > 20, 'found the bundle states');
  let steps = 0;
  let blockers = 0;
  for (const dir of dirs) {
    const files = walk(dir).map((f) => ({ name: f, content: readFileSync(`${ROOT}/${f}`) }));
    assert.ok(files.length > 0, dir);
    for (const to of ['nftables', 'iptables', 'ebpf']) {
      for (const { args, options } of PLAN_CASES) {
        const label = `dplint plan --to ${to} ${args.join(' ')} ${dir}`;
        const cli = runNative(['plan', '--no-config', '--to', to, '--format', 'json', ...args, dir]);
        assert.ok(cli.status === 0 || cli.status === 1, `${label} exited ${cli.status}: ${cli.stderr}`);
        const wasm = plan(files, to, { ...options, origin: 'cli' });
        assert.deepEqual(wasm, JSON.parse(cli.stdout), label);
        assert.equal(`${JSON.stringify(wasm, null, 2)}\n`, cli.stdout, `${label}: JSON text differs`);
        assert.equal(cli.status, wasm.reachable ? 0 : 1, `${label}: exit status and reachable disagree`);
        steps += wasm.steps.length;
        blockers += wasm.blockers.length;
      }
    }
    // Text and Markdown, once per directory.
    for (const [format, render] of [['text', planText], ['markdown', planMarkdown]]) {
      const cli = runNative(['plan', '--no-config', '--to', 'nftables', '--format', format, dir]);
      assert.equal(render(files, 'nftables', { origin: 'cli' }), cli.stdout, `${dir}: ${format} differs`);
    }
  }
  assert.ok(steps > 0 && blockers > 0, `the cases have steps (${steps}) and blockers (${blockers})`);
});
