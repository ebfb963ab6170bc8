// plan(), planText() and planMarkdown() in Node: the steps in order with their diffs, commands
// and checks; preconditions as blockers; bad targets, options and files as thrown Errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dplint from '../pkg/node.js';
import { CALICO_IPTABLES, CALICO_NFTABLES, IPVS_CONFIGMAP, NFTABLES_CONFIGMAP, NFTABLES_DIFF } from './fixtures.mjs';

const CLUSTER = [
  { name: 'cm.yaml', content: IPVS_CONFIGMAP },
  { name: 'installation.yaml', content: CALICO_IPTABLES },
];

test('plan() to nftables: kube-proxy first, then Calico, each with its diff, commands and check', () => {
  const plan = dplint.plan(CLUSTER, 'nftables');
  assert.equal(plan.target, 'nftables');
  assert.match(plan.start, /^kube-proxy: ipvs /);
  assert.deepEqual(plan.blockers, []);
  const titles = plan.steps.map((s) => s.title);
  assert.equal(titles[0], 'Switch kube-proxy to nftables mode');
  assert.equal(titles[1], "Switch Calico's dataplane to Nftables");
  const [kubeProxy, calico] = plan.steps;
  assert.deepEqual(kubeProxy.changes, [{ file: 'cm.yaml', diff: NFTABLES_DIFF }]);
  assert.deepEqual(calico.changes.map((c) => c.file), ['installation.yaml']);
  assert.match(calico.changes[0].diff, /^-    linuxDataplane: Iptables\n\+    linuxDataplane: Nftables\n/m);
  assert.ok(kubeProxy.apply.some((c) => c.command === 'kubectl -n kube-system rollout restart daemonset/kube-proxy'), JSON.stringify(kubeProxy.apply));
  assert.ok(kubeProxy.verify.some((c) => c.expect === 'Using nftables Proxier'), JSON.stringify(kubeProxy.verify));
  for (const step of plan.steps) {
    assert.ok(step.why.length > 0, step.title);
    assert.ok(step.rollback.length > 0, step.title);
    assert.deepEqual(step.check.errors, [], `${step.title}: no error-level consistency finding between steps`);
    // `expect` is left out when there is nothing to compare, as in the CLI's JSON.
    for (const command of [...step.apply, ...step.verify]) assert.notEqual(command.expect, '');
  }
  assert.match(kubeProxy.check.cluster, /^kube-proxy: nftables/);
  assert.equal(plan.reachable, true, JSON.stringify(plan.remaining));
  assert.deepEqual(plan.remaining, []);
});

test('plan() does not change the input, and a cluster already there has nothing to do', () => {
  const files = CLUSTER.map((f) => ({ ...f }));
  dplint.plan(files, 'nftables');
  assert.deepEqual(files, CLUSTER);
  const done = dplint.plan(
    [
      { name: 'cm.yaml', content: NFTABLES_CONFIGMAP },
      { name: 'installation.yaml', content: CALICO_NFTABLES },
    ],
    'nftables',
  );
  assert.deepEqual(done.steps, []);
  assert.deepEqual(done.blockers, []);
  assert.equal(done.reachable, true);
});

test('plan() to iptables moves kube-proxy only', () => {
  const plan = dplint.plan(CLUSTER, 'iptables');
  assert.equal(plan.steps[0].title, 'Switch kube-proxy to iptables mode');
  assert.ok(!plan.steps.some((s) => s.changes.some((c) => c.file === 'installation.yaml')), JSON.stringify(plan.steps.map((s) => s.title)));
});

test('preconditions are blockers, with no steps: old node kernels, old Calico, no kube-proxy', () => {
  const old = dplint.plan(CLUSTER, 'nftables', { nodeKernels: ['5.4.0-150-generic'] });
  assert.deepEqual(old.blockers.map((b) => b.what), ['node kernel 5.4.0-150-generic is older than 5.13, which nftables mode needs']);
  assert.match(old.blockers[0].instead, /iptables/);
  assert.deepEqual(old.steps, []);
  assert.equal(old.reachable, false);
  // The same kernels are fine for iptables.
  assert.deepEqual(dplint.plan(CLUSTER, 'iptables', { nodeKernels: ['5.4.0-150-generic'] }).blockers, []);
  const calico = dplint.plan(CLUSTER, 'nftables', { calicoVersion: '3.28' });
  assert.match(calico.blockers[0].what, /^Calico 3\.28 has no nftables dataplane/);
  const none = dplint.plan([{ name: 'installation.yaml', content: CALICO_IPTABLES }], 'nftables');
  assert.equal(none.blockers[0].what, 'no kube-proxy configuration is in the input');
  const nothing = dplint.plan([], 'iptables');
  assert.equal(nothing.blockers[0].what, 'no kube-proxy configuration is in the input');
});

test('planText() and planMarkdown() render the same plan', () => {
  const text = dplint.planText(CLUSTER, 'nftables');
  assert.ok(text.startsWith('Plan: move to nftables\nFrom: kube-proxy: ipvs '), text);
  assert.ok(text.indexOf('\n1. Switch kube-proxy to nftables mode\n') < text.indexOf("\n2. Switch Calico's dataplane to Nftables\n"), text);
  assert.ok(text.includes('       expect: Using nftables Proxier\n'), text);
  const markdown = dplint.planMarkdown(CLUSTER, 'nftables');
  assert.ok(markdown.startsWith('# Move to nftables\n'), markdown);
  assert.ok(markdown.includes('```diff\n--- a/cm.yaml\n'), markdown);
  const blocked = dplint.planText(CLUSTER, 'nftables', { nodeKernels: ['5.4.0-150-generic'] });
  assert.ok(blocked.includes('Preconditions not met:\n  - node kernel 5.4.0-150-generic'), blocked);
});

test('bad targets, options and files are thrown as Errors that name them', () => {
  assert.throws(() => dplint.plan(CLUSTER, 'ipvs'), { message: 'invalid target: "ipvs" (expected "nftables", "iptables", "ebpf")' });
  assert.throws(() => dplint.plan(CLUSTER, 'NFTABLES'), /invalid target: "NFTABLES"/);
  assert.throws(() => dplint.plan(CLUSTER), { name: 'TypeError', message: /^plan: target must be "nftables", "iptables" or "ebpf" \(got undefined\)/ });
  assert.throws(() => dplint.planText(CLUSTER, 3), { name: 'TypeError', message: /^planText: target must be/ });
  assert.throws(() => dplint.planMarkdown(CLUSTER, null), { name: 'TypeError', message: /got null/ });
  assert.throws(() => dplint.plan('cm.yaml', 'nftables'), { name: 'TypeError', message: /files must be an array/ });
  assert.throws(() => dplint.plan([{ name: 'cm.yaml' }], 'nftables'), { name: 'TypeError', message: /files\[0\]\.content/ });
  assert.throws(() => dplint.plan(CLUSTER, 'nftables', [1]), { name: 'TypeError', message: /options must be an object/ });
  assert.throws(() => dplint.plan(CLUSTER, 'nftables', { os: 'plan9' }), /invalid option os/);
  assert.throws(() => dplint.plan(CLUSTER, 'nftables', { nodeKernels: ['5.15', 'x'] }), /nodeKernels\[1\]/);
  assert.throws(() => dplint.plan(CLUSTER, 'nftables', { kernels: [] }), /kernels/);
  assert.throws(() => dplint.plan(CLUSTER, 'nftables', { format: 'text' }), /^Error: invalid option format: it is an option of check\(\), not of plan\(\)/);
  assert.throws(() => dplint.plan(CLUSTER, 'nftables', { failOn: 'warning' }), /invalid option failOn/);
  assert.throws(() => dplint.plan(CLUSTER, 'nftables', { inputErrors: [{ file: 'gone.yaml', message: 'no such file' }] }), {
    message: "no plan: every input must be readable to plan the cluster's move (unreadable: gone.yaml)",
  });
  assert.throws(() => dplint.plan([{ name: 'v.yaml', content: 'a: 1\n', role: 'chart' }], 'nftables'), /role "chart"/);
  // Errors are plain Errors, not traps of the module.
  try {
    dplint.plan(CLUSTER, 'ipvs');
  } catch (err) {
    assert.ok(err instanceof Error && !(err instanceof WebAssembly.RuntimeError));
  }
});

test('hostile and unreadable input gives a plan with blockers, never a crash', () => {
  const inputs = [
    [{ name: 'bad.yaml', content: Uint8Array.from([0x61, 0x3a, 0x20, 0xff, 0x0a]) }],
    [{ name: 'deep.yaml', content: '['.repeat(100_000) }],
    [{ name: 'bomb.yaml', content: 'a: &a [x, x, x, x, x, x, x, x, x]\n' + Array.from({ length: 12 }, (_, i) => `b${i}: &b${i} [*${i ? `b${i - 1}` : 'a'}, *${i ? `b${i - 1}` : 'a'}, *${i ? `b${i - 1}` : 'a'}]`).join('\n') + '\n' }],
  ];
  for (const files of inputs) {
    for (const target of ['nftables', 'iptables', 'ebpf']) {
      const plan = dplint.plan(files, target);
      assert.equal(plan.target, target);
      assert.ok(plan.blockers.length > 0, `${files[0].name} → ${target}`);
      assert.deepEqual(plan.steps, []);
    }
  }
});
