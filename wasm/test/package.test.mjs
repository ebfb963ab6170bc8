// The npm package in Node: the API (check, run, applyFixes, rules, explain, version), option validation,
// input limits, and the dplint-wasm bin's inputs and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PKG, runBin, runNative } from './helpers.mjs';
import * as dplint from '../pkg/node.js';
import { IPVS_CONFIGMAP, NFTABLES_CONFIGMAP, NFTABLES_DIFF } from './fixtures.mjs';


test('check() returns the report with the finding on the right line and the cluster picture', () => {
  const report = dplint.check([{ name: 'cm.yaml', content: IPVS_CONFIGMAP }]);
  assert.equal(report.version, dplint.version());
  const kp201 = report.findings.find((f) => f.code === 'KP201');
  assert.ok(kp201, JSON.stringify(report.findings));
  assert.equal(kp201.name, 'ipvs-mode-deprecated');
  assert.equal(kp201.line, 10);
  assert.equal(kp201.column, 11);
  assert.equal(kp201.field, 'mode');
  assert.equal(kp201.dataKey, 'config.conf');
  assert.equal(report.cluster.kubeProxy.status, 'running');
  assert.equal(report.cluster.kubeProxy.mode, 'ipvs');
  assert.equal(report.summary.files, 1);
});

test('content may be text or bytes; bytes keep invalid UTF-8 visible as DP001', () => {
  const fromBytes = dplint.check([{ name: 'cm.yaml', content: new TextEncoder().encode(IPVS_CONFIGMAP) }]);
  const fromText = dplint.check([{ name: 'cm.yaml', content: IPVS_CONFIGMAP }]);
  assert.deepEqual(fromBytes, fromText);
  const bad = dplint.check([{ name: 'bad.yaml', content: Uint8Array.from([0x61, 0x3a, 0x20, 0xff, 0x0a]) }]);
  assert.deepEqual(bad.findings.map((f) => f.code), ['DP001']);
});

test('options change the target and the exit code', () => {
  const files = [{ name: 'cm.yaml', content: IPVS_CONFIGMAP }];
  const at143 = dplint.check(files, { kubernetesVersion: '1.43' });
  assert.equal(at143.target.kubernetesVersion, '1.43');
  assert.equal(at143.target.kubernetesVersionSource, 'kubernetesVersion option');
  assert.equal(at143.findings.find((f) => f.code === 'KP201').severity, 'error');
  assert.equal(dplint.run(files).exitCode, 0);
  assert.equal(dplint.run(files, { failOn: 'warning' }).exitCode, 1);
  assert.equal(dplint.run(files, { kubernetesVersion: '1.43' }).exitCode, 1);
  assert.equal(dplint.run(files, { kubernetesVersion: '1.43', failOn: 'never' }).exitCode, 0);
  const off = dplint.check(files, { rules: { disable: ['ipvs-mode-deprecated'] } });
  assert.ok(!off.findings.some((f) => f.code === 'KP201'));
  const raised = dplint.check(files, { rules: { severity: { KP201: 'error' } } });
  assert.equal(raised.findings.find((f) => f.code === 'KP201').severity, 'error');
  const calico = dplint.check(files, { calicoVersion: '3.29' });
  assert.equal(calico.cluster.calicoVersion, '3.29');
});

test('run() renders every format like the CLI', () => {
  const files = [{ name: 'cm.yaml', content: IPVS_CONFIGMAP }];
  const dir = mkdtempSync(join(tmpdir(), 'dplint-wasm-'));
  try {
    writeFileSync(join(dir, 'cm.yaml'), IPVS_CONFIGMAP);
    for (const format of ['text', 'json', 'sarif', 'junit', 'github']) {
      const out = dplint.run(files, { format, origin: 'cli' });
      const cli = runNative(['check', '--no-config', '--color', 'never', '--format', format, 'cm.yaml'], { cwd: dir });
      assert.equal(out.output, cli.stdout, format);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are thrown as Errors that name the option', () => {
  const files = [{ name: 'cm.yaml', content: IPVS_CONFIGMAP }];
  const cases = [
    [{ kubernetesVersion: 'banana' }, 'kubernetesVersion'],
    [{ kubernetesVersion: 135 }, 'kubernetesVersion'],
    [{ calicoVersion: '9' }, 'calicoVersion'],
    [{ os: 'plan9' }, 'os'],
    [{ nodeKernels: 'x' }, 'nodeKernels'],
    [{ nodeKernels: ['5.15.0', 'nope'] }, 'nodeKernels[1]'],
    [{ failOn: 'sometimes' }, 'failOn'],
    [{ format: 'xml' }, 'format'],
    [{ rules: { disable: ['NOPE9'] } }, 'rules.disable[0]'],
    [{ rules: { severity: { KP201: 'fatal' } } }, 'rules.severity.KP201'],
    [{ limits: { maxDepth: 0 } }, 'limits.maxDepth'],
    [{ kubernetesVersoin: '1.35' }, 'kubernetesVersoin'],
    [{ settings: 'rules:\n  disable: [NOPE9]\n' }, 'rules.disable.0'],
  ];
  for (const [options, name] of cases) {
    assert.throws(
      () => dplint.check(files, options),
      (err) => err instanceof Error && err.message.includes(name),
      JSON.stringify(options),
    );
  }
  assert.throws(() => dplint.check(files, 'fast'), TypeError);
  assert.throws(() => dplint.check('cm.yaml'), TypeError);
  assert.throws(() => dplint.check([{ name: 'a' }]), /files\[0\]\.content/);
  assert.throws(() => dplint.check([{ content: 'a: 1' }]), /files\[0\]\.name/);
  assert.throws(() => dplint.check([{ name: 'a', content: 'a: 1', role: 'chart' }]), /role/);
  // The module still works after errors.
  assert.equal(dplint.check(files).findings.length > 0, true);
});

test('applyFixes(files, "all") applies the unsafe KP201 fix and checks the result', () => {
  const files = [{ name: 'cm.yaml', content: IPVS_CONFIGMAP }, { name: 'other.yaml', content: 'kind: Namespace\n' }];
  const out = dplint.applyFixes(files, 'all');
  assert.deepEqual(out.files, [
    { name: 'cm.yaml', text: NFTABLES_CONFIGMAP, changed: true, diff: NFTABLES_DIFF },
    { name: 'other.yaml', text: 'kind: Namespace\n', changed: false, diff: '' },
  ]);
  assert.deepEqual(out.applied, [{ file: 'cm.yaml', code: 'KP201', title: 'Set mode to nftables', applicability: 'unsafe' }]);
  assert.deepEqual(out.notices, []);
  assert.equal(out.report.cluster.kubeProxy.mode, 'nftables');
  assert.ok(!out.report.findings.some((f) => f.code === 'KP201'));
  // The report is the check of the fixed text.
  assert.deepEqual(out.report, dplint.check([{ name: 'cm.yaml', content: NFTABLES_CONFIGMAP }, files[1]]));
  // Options are those of check(): with KP201 off there is nothing to fix.
  const off = dplint.applyFixes(files, 'all', { rules: { disable: ['KP201'] } });
  assert.equal(off.files[0].text, IPVS_CONFIGMAP);
  assert.deepEqual(off.applied, []);
});

test('applyFixes(files, "safe") leaves an unsafe fix alone', () => {
  const out = dplint.applyFixes([{ name: 'cm.yaml', content: IPVS_CONFIGMAP }], 'safe');
  assert.deepEqual(out.files, [{ name: 'cm.yaml', text: IPVS_CONFIGMAP, changed: false, diff: '' }]);
  assert.deepEqual(out.applied, []);
  assert.deepEqual(out.report, dplint.check([{ name: 'cm.yaml', content: IPVS_CONFIGMAP }]));
});

test('applyFixes(files, findings) applies exactly the fixes of the findings given', () => {
  const files = [{ name: 'cm.yaml', content: IPVS_CONFIGMAP }];
  const { findings } = dplint.check(files);
  const kp201 = findings.find((f) => f.code === 'KP201');
  assert.deepEqual(kp201.fix, {
    title: 'Set mode to nftables',
    applicability: 'unsafe',
    edits: [{ file: 'cm.yaml', start: 200, end: 204, line: 10, column: 11, endLine: 10, endColumn: 15, content: 'nftables' }],
  });
  const chosen = dplint.applyFixes(files, [kp201]);
  assert.equal(chosen.files[0].text, NFTABLES_CONFIGMAP);
  assert.equal(chosen.files[0].diff, NFTABLES_DIFF);
  assert.deepEqual(chosen.applied.map((a) => a.code), ['KP201']);
  // Findings without a fix are passed over; none chosen changes nothing.
  assert.equal(dplint.applyFixes(files, findings).files[0].text, NFTABLES_CONFIGMAP);
  assert.equal(dplint.applyFixes(files, findings.filter((f) => f.fix === null)).files[0].changed, false);
  assert.equal(dplint.applyFixes(files, []).files[0].changed, false);
  // A fix for another version of the file is refused with the reason, never applied blindly.
  const stale = dplint.applyFixes([{ name: 'cm.yaml', content: NFTABLES_CONFIGMAP.slice(0, 150) }], [kp201]);
  assert.equal(stale.files[0].changed, false);
  assert.equal(stale.notices.length, 1);
  assert.match(stale.notices[0].reason, /^it does not fit the file: bytes 200\.\.204 are not a range of "cm\.yaml"/);
  // A fix whose result would not read is refused.
  const breaking = { ...kp201, fix: { ...kp201.fix, edits: [{ ...kp201.fix.edits[0], content: 'nftables\n  - [' }] } };
  const refused = dplint.applyFixes(files, [breaking]);
  assert.equal(refused.files[0].text, IPVS_CONFIGMAP);
  assert.match(refused.notices[0].reason, /^the file would no longer read/);
});

test('applyFixes() throws Errors that name the bad argument', () => {
  const files = [{ name: 'cm.yaml', content: IPVS_CONFIGMAP }];
  const throwsNamed = (fn, type, pattern) => assert.throws(fn, (err) => err instanceof type && pattern.test(err.message), pattern.source);
  throwsNamed(() => dplint.applyFixes(files, 'some'), TypeError, /^applyFixes: which must be "safe", "all" or an array of findings \(got "some"\)$/);
  throwsNamed(() => dplint.applyFixes(files), TypeError, /which must be .*\(got undefined\)/);
  throwsNamed(() => dplint.applyFixes(files, { fix: null }), TypeError, /\(got object\)/);
  throwsNamed(() => dplint.applyFixes(files, [{ file: 'cm.yaml', line: 10 }]), Error, /^invalid which\[0\]: missing field `code`/);
  throwsNamed(() => dplint.applyFixes(files, [{ file: 'cm.yaml', line: 10, code: 'KP201', fix: { title: 'x', applicability: 'maybe', edits: [] } }]), Error, /^invalid which\[0\]\.fix\.applicability: unknown variant `maybe`/);
  throwsNamed(() => dplint.applyFixes(files, [{ file: 'cm.yaml', line: 10, code: 'KP201', fix: { title: 'x', applicability: 'safe', edits: [{ file: 'cm.yaml', start: -1 }] } }]), Error, /^invalid which\[0\]\.fix\.edits\[0\]\.start/);
  throwsNamed(() => dplint.applyFixes('cm.yaml', 'all'), TypeError, /^files must be an array/);
  throwsNamed(() => dplint.applyFixes([{ name: 'a' }], 'all'), TypeError, /files\[0\]\.content/);
  throwsNamed(() => dplint.applyFixes(files, 'all', { os: 'plan9' }), Error, /^invalid option os/);
  throwsNamed(() => dplint.applyFixes(files, 'all', 'fast'), TypeError, /^options must be an object/);
  throwsNamed(() => dplint.applyFixes([{ name: 'big.yaml', content: new Uint8Array(dplint.MAX_FILE_BYTES + 1) }], 'all'), RangeError, /big\.yaml.*larger than/);
  throwsNamed(() => dplint.applyFixes([{ name: 'b.yaml', content: Uint8Array.from([0x61, 0xff, 0x0a]) }], 'all'), Error, /^file "b\.yaml" is not UTF-8 text; it cannot be fixed$/);
  // The module still works after errors.
  assert.equal(dplint.applyFixes(files, 'all').files[0].text, NFTABLES_CONFIGMAP);
});

test('input sizes are bounded', () => {
  const big = new Uint8Array(dplint.MAX_FILE_BYTES + 1);
  assert.throws(() => dplint.check([{ name: 'big.yaml', content: big }]), RangeError);
  const deep = '['.repeat(5000) + ']'.repeat(5000) + '\nkind: KubeProxyConfiguration\n';
  const report = dplint.check([{ name: 'deep.yaml', content: `# kube-proxy\n${deep}` }], { limits: { maxDepth: 64 } });
  assert.ok(report.findings.some((f) => f.code === 'DP001'));
});

test('hostile input gives findings, never a crash', () => {
  const bomb = 'kind: KubeProxyConfiguration\na: &a ["x","x","x","x","x","x","x","x","x","x"]\n' +
    Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n') + '\n';
  for (const content of [bomb, '\u0000\u0001', '{', ':\n:\n- [', 'mode: ipvs\n'.repeat(10000), '\ufeff---\n...\n']) {
    const report = dplint.check([{ name: 'x.yaml', content }]);
    assert.ok(Array.isArray(report.findings));
  }
});

test('rules(), explain() and version()', () => {
  const rules = dplint.rules();
  assert.ok(rules.length > 50);
  const codes = new Set(rules.map((r) => r.code));
  assert.equal(codes.size, rules.length);
  const cli = JSON.parse(runNative(['rules', '--format', 'json']).stdout);
  assert.deepEqual(rules.map((r) => [r.code, r.name, r.severity, r.summary]), cli.map((r) => [r.code, r.name, r.severity, r.summary]));
  const rule = dplint.explain('KP201');
  assert.equal(rule.name, 'ipvs-mode-deprecated');
  assert.match(rule.documentation, /## Fix/);
  assert.deepEqual(dplint.explain('ipvs-mode-deprecated'), rule);
  assert.deepEqual(dplint.explain('kp201'), rule);
  assert.throws(() => dplint.explain('NOPE'), /NOPE/);
  const explained = runNative(['explain', 'KP201']).stdout;
  assert.equal(runBin(['explain', 'KP201']).stdout, explained);
  assert.equal(dplint.version(), JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')).version);
});

test('the package declares its entry points, types and bin', () => {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'dplint-wasm');
  assert.equal(pkg.bin['dplint-wasm'], 'bin/dplint-wasm.js');
  assert.equal(pkg.exports['.'].node, './node.js');
  assert.equal(pkg.exports['.'].browser, './web.js');
  for (const file of pkg.files.filter((f) => !f.endsWith('/'))) readFileSync(join(PKG, file));
  assert.match(readFileSync(join(PKG, 'index.d.ts'), 'utf8'), /export function check\(files: InputFile\[\], options\?: CheckOptions\): Report;/);
});

test('the web entry point works in Node once initialised with the bytes', async () => {
  const web = await import('../pkg/web.js');
  assert.throws(() => web.version(), /init\(\)/);
  await web.init(readFileSync(join(PKG, 'dplint_wasm_bg.wasm')));
  assert.deepEqual(web.check([{ name: 'cm.yaml', content: IPVS_CONFIGMAP }]), dplint.check([{ name: 'cm.yaml', content: IPVS_CONFIGMAP }]));
});

test('bin: directories, hidden entries, stdin, settings and exit codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dplint-wasm-bin-'));
  try {
    mkdirSync(join(dir, 'm', 'sub'), { recursive: true });
    mkdirSync(join(dir, 'm', '.hidden'));
    mkdirSync(join(dir, 'm', 'vendor'));
    writeFileSync(join(dir, 'm', 'sub', 'cm.yaml'), IPVS_CONFIGMAP);
    writeFileSync(join(dir, 'm', '.hidden', 'cm.yaml'), IPVS_CONFIGMAP);
    writeFileSync(join(dir, 'm', 'vendor', 'cm.yml'), IPVS_CONFIGMAP);
    writeFileSync(join(dir, 'm', 'notes.txt'), 'mode: ipvs\n');
    writeFileSync(join(dir, 'm', 'B.JSON'), '{"kind": "KubeProxyConfiguration", "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "mode": "ipvs"}\n');
    const same = (args, options = {}) => {
      const cli = runNative(args, { cwd: dir, ...options });
      const bin = runBin(args, { cwd: dir, ...options });
      assert.equal(bin.stdout, cli.stdout, args.join(' '));
      assert.equal(bin.status, cli.status, args.join(' '));
      return bin;
    };
    const all = same(['check', '-f', 'json', 'm']);
    assert.deepEqual(JSON.parse(all.stdout).summary.files, 3);
    assert.equal(all.status, 0);
    assert.equal(same(['check', '-f', 'json', '--fail-on', 'warning', 'm']).status, 1);
    assert.equal(same(['check', '-f', 'json', '--fail-on=info', '.']).status, 1);
    assert.equal(same(['check', '-f', 'json', 'm', 'missing.yaml']).status, 2);
    assert.equal(same(['check', '-f', 'json', '--stdin-name', 'kp.yaml', '-'], { input: IPVS_CONFIGMAP }).status, 0);
    assert.equal(same(['check', '-f', 'json', 'm/.hidden/cm.yaml']).status, 0);
    assert.equal(runBin(['check', '--format', 'xml', 'm'], { cwd: dir }).status, 2);
    assert.equal(runBin(['check', '--kubernetes-version', 'banana', 'm'], { cwd: dir }).status, 2);
    assert.equal(runBin(['check', '--bogus'], { cwd: dir }).status, 2);
    assert.equal(runBin(['frobnicate'], { cwd: dir }).status, 2);
    assert.equal(runBin(['--help'], { cwd: dir }).status, 0);
    // Settings: found upward, options override them, ignorePaths honoured, invalid ones exit 2.
    writeFileSync(join(dir, '.dplint.yaml'), 'kubernetesVersion: "1.43"\nfailOn: warning\nignorePaths: ["**/vendor/**"]\n');
    const withSettings = same(['check', '-f', 'json', 'm']);
    assert.equal(JSON.parse(withSettings.stdout).summary.files, 2);
    assert.equal(withSettings.status, 1);
    same(['check', '-f', 'json', '--kubernetes-version', '1.36', '--fail-on', 'never', 'm']);
    same(['check', '-f', 'json', '--no-config', 'm']);
    writeFileSync(join(dir, '.dplint.yaml'), 'rules:\n  disable: [NOPE9]\n');
    assert.equal(runBin(['check', 'm'], { cwd: dir }).status, 2);
    assert.equal(runNative(['check', 'm'], { cwd: dir }).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('versions() offers what a check accepts, from the module', () => {
  const known = dplint.versions();
  assert.equal(known.kubernetes[0], '1.29');
  assert.equal(known.kubernetes.at(-1), '1.43');
  assert.ok(known.kubernetes.includes(known.defaultKubernetes));
  assert.equal(known.calico.at(-1), known.defaultCalico);
  const files = [{ name: 'cm.yaml', content: IPVS_CONFIGMAP }];
  for (const v of known.kubernetes) assert.equal(dplint.check(files, { kubernetesVersion: v }).target.kubernetesVersion, v);
  for (const v of known.calico) assert.equal(dplint.check(files, { calicoVersion: v }).target.calicoVersion, v);
  assert.equal(dplint.check(files).target.kubernetesVersion, known.defaultKubernetes);
});
