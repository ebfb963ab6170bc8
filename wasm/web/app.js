// The browser checker: dplint's engine (WebAssembly) over pasted or dropped manifests.
// Nothing is sent anywhere: the page loads its script, style and module, then works offline.
import { init, check, applyFixes, plan, planMarkdown, explain, version, versions } from './dplint/web.js';

// The versions the selects offer come from the module once it is loaded (`versions()`).
const known = { kubernetes: [], calico: [] };
const MANIFEST_EXTENSIONS = ['yaml', 'yml', 'json'];
const SEVERITIES = [
  ['error', 'Errors'],
  ['warning', 'Warnings'],
  ['info', 'Information'],
];
const PASTED = 'pasted.yaml';
const SHARE_PREFIX = '#s=';
const LONG_LINK = 32 * 1024;

const $ = (id) => document.getElementById(id);
const input = $('input');
const backdrop = $('backdrop');
const tabs = $('tabs');
const findingsBox = $('findings');
const clusterBox = $('cluster');
const statusBox = $('status');
const kubeSelect = $('kubernetes-version');
const calicoSelect = $('calico-version');
const dialog = $('explain');
const diffBox = $('fix-diff');
const diffButton = $('fix-diff-button');
const unsafeBox = $('fix-unsafe');
const fixSummary = $('fix-summary');
const planBox = $('plan');
const planTarget = $('plan-target');
const planCopy = $('plan-copy');

const state = {
  files: [{ name: PASTED, text: '' }],
  active: 0,
  report: null,
  current: null, // { file, line, endLine } of the finding last jumped to
  ready: false,
  checks: 0,
  planned: false, // the plan is shown and follows the input
};

window.__dplintTiming = { start: performance.timeOrigin };

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setStatus(text, isError = false) {
  statusBox.textContent = text;
  statusBox.classList.toggle('error', isError);
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

// ---------------------------------------------------------------- Markdown (docs and help)

const INLINE = /(`[^`]+`)|\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)|\*\*([^*]+)\*\*|<(https?:\/\/[^>\s]+)>/g;

function inline(text, parent) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    if (m[1]) parent.append(el('code', {}, m[1].slice(1, -1)));
    else if (m[2]) parent.append(el('a', { href: m[3], rel: 'noopener noreferrer', target: '_blank' }, m[2]));
    else if (m[4]) parent.append(el('strong', {}, m[4]));
    else if (m[5]) parent.append(el('a', { href: m[5], rel: 'noopener noreferrer', target: '_blank' }, m[5]));
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(text.slice(last));
  return parent;
}

function snippet(code, lang) {
  const pre = el('pre', {}, el('code', { class: lang ? `language-${lang}` : undefined }, code));
  const button = el('button', { type: 'button', class: 'copy', 'aria-label': 'Copy this snippet' }, 'Copy');
  button.addEventListener('click', async () => {
    const ok = await copyText(code);
    button.textContent = ok ? 'Copied' : 'Copy failed';
    setStatus(ok ? 'Snippet copied to the clipboard.' : 'Could not copy; select the snippet and copy it.');
  });
  return el('div', { class: 'snippet', 'data-testid': 'snippet' }, pre, button);
}

/** Renders a little Markdown: headings, fenced code (copyable), lists, paragraphs, inline code and links. */
function markdown(text, { lineBreaks = false } = {}) {
  const out = document.createDocumentFragment();
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*```(\w*)\s*$/);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !/^\s*```\s*$/.test(lines[i])) body.push(lines[i++]);
      i++;
      out.append(snippet(body.join('\n'), fence[1]));
      continue;
    }
    const heading = line.match(/^(#{1,4})\s+(.*)$/);
    if (heading) {
      out.append(inline(heading[2], el(heading[1].length <= 2 ? 'h3' : 'h4')));
      i++;
      continue;
    }
    if (/^\s*[-*]\s+/.test(line)) {
      const list = el('ul');
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) {
        let item = lines[i++].replace(/^\s*[-*]\s+/, '');
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*[-*]\s+/.test(lines[i])) item += ' ' + lines[i++].trim();
        list.append(inline(item, el('li')));
      }
      out.append(list);
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    const para = [line.trim()];
    i++;
    if (!lineBreaks) {
      while (i < lines.length && lines[i].trim() !== '' && !/^\s*(```|#{1,4}\s|[-*]\s)/.test(lines[i])) para.push(lines[i++].trim());
    }
    out.append(inline(para.join(' '), el('p')));
  }
  return out;
}

// ---------------------------------------------------------------- files and the editor

function activeFile() {
  return state.files[state.active];
}

function renderTabs() {
  tabs.replaceChildren();
  if (state.files.length <= 1 && state.files[0]?.name === PASTED) return;
  state.files.forEach((file, index) => {
    const count = state.report ? state.report.findings.filter((f) => f.file === file.name).length : 0;
    const tab = el(
      'button',
      {
        type: 'button',
        role: 'tab',
        class: 'tab',
        id: `tab-${index}`,
        'aria-selected': String(index === state.active),
        'aria-controls': 'input',
        tabindex: index === state.active ? '0' : '-1',
        'data-file': file.name,
      },
      file.name,
      count ? ` (${count})` : '',
    );
    tab.addEventListener('click', () => selectFile(index));
    tab.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) {
        event.preventDefault();
        selectFile((index + step + state.files.length) % state.files.length, true);
      } else if (event.key === 'Delete') {
        removeFile(index);
      }
    });
    tabs.append(tab);
  });
  const remove = el('button', { type: 'button', class: 'tab', 'aria-label': `Remove ${activeFile().name}` }, 'Remove file');
  remove.addEventListener('click', () => removeFile(state.active));
  tabs.append(remove);
}

function selectFile(index, focusTab = false) {
  state.active = index;
  input.value = activeFile().text;
  input.setAttribute('aria-label', `Text of ${activeFile().name}`);
  $('fix-file').textContent = activeFile().name;
  if (state.ready && !diffBox.hidden) renderDiff();
  renderTabs();
  renderBackdrop();
  if (focusTab) $(`tab-${index}`)?.focus();
}

function removeFile(index) {
  state.files.splice(index, 1);
  if (state.files.length === 0) state.files.push({ name: PASTED, text: '' });
  selectFile(Math.min(index, state.files.length - 1));
  scheduleCheck(0);
}

function addFiles(files) {
  if (files.length === 0) return;
  // Dropped files replace an empty paste area.
  if (state.files.length === 1 && state.files[0].name === PASTED && state.files[0].text === '') state.files = [];
  for (const file of files) {
    const existing = state.files.findIndex((f) => f.name === file.name);
    if (existing >= 0) state.files[existing] = file;
    else state.files.push(file);
  }
  selectFile(state.files.findIndex((f) => f.name === files[0].name));
  setStatus(`Added ${plural(files.length, 'file')}.`);
  scheduleCheck(0);
}

/** Highlights the lines findings point at, behind the transparent text area. */
function renderBackdrop() {
  const file = activeFile();
  const lines = file.text.split('\n');
  const marks = new Map();
  const rank = { error: 3, warning: 2, info: 1 };
  for (const f of state.report?.findings ?? []) {
    if (f.file !== file.name) continue;
    const last = f.endLine > f.line && f.endColumn === 1 ? f.endLine - 1 : Math.max(f.line, f.endLine);
    for (let line = f.line; line <= last && line <= lines.length; line++) {
      if ((rank[marks.get(line)] ?? 0) < rank[f.severity]) marks.set(line, f.severity);
    }
  }
  const current = state.current && state.current.file === file.name ? state.current : null;
  const fragment = document.createDocumentFragment();
  lines.forEach((text, i) => {
    const line = i + 1;
    const severity = marks.get(line);
    const isCurrent = current && line >= current.line && line <= current.endLine;
    if (severity || isCurrent) {
      const cls = ['hl', severity ? `hl-${severity}` : '', isCurrent ? 'hl-current' : ''].join(' ').trim();
      fragment.append(el('span', { class: cls, 'data-line': line, 'data-testid': 'highlight' }, text || ' '));
    } else {
      fragment.append(text);
    }
    fragment.append('\n');
  });
  fragment.append(' ');
  backdrop.replaceChildren(fragment);
  syncScroll();
}

function syncScroll() {
  backdrop.scrollTop = input.scrollTop;
  backdrop.scrollLeft = input.scrollLeft;
}

function lineHeight() {
  return parseFloat(getComputedStyle(input).lineHeight) || 19;
}

/** Shows a finding's lines: switches to its file, selects the lines and scrolls to them. */
function goTo(finding) {
  const index = state.files.findIndex((f) => f.name === finding.file);
  if (index < 0) return;
  if (index !== state.active) selectFile(index);
  const last = finding.endLine > finding.line && finding.endColumn === 1 ? finding.endLine - 1 : Math.max(finding.line, finding.endLine);
  state.current = { file: finding.file, line: finding.line, endLine: last };
  const lines = activeFile().text.split('\n');
  let start = 0;
  for (let i = 0; i < finding.line - 1 && i < lines.length; i++) start += lines[i].length + 1;
  let end = start;
  for (let i = finding.line - 1; i < last && i < lines.length; i++) end += lines[i].length + 1;
  input.focus({ preventScroll: true });
  input.setSelectionRange(start, Math.max(start, end - 1));
  input.scrollTop = Math.max(0, (finding.line - 3) * lineHeight());
  renderBackdrop();
}

// ---------------------------------------------------------------- checking

let timer;
function scheduleCheck(delay = 200) {
  clearTimeout(timer);
  timer = setTimeout(runCheck, delay);
}

function options() {
  const opts = {};
  if (kubeSelect.value) opts.kubernetesVersion = kubeSelect.value;
  if (calicoSelect.value) opts.calicoVersion = calicoSelect.value;
  return opts;
}

function runCheck() {
  if (!state.ready) return;
  const files = checkedFiles();
  if (files.length === 0) {
    state.report = null;
    renderReport();
    setStatus('Paste manifests or drop files to check them.');
    if (state.planned) runPlan();
    document.body.dataset.state = 'empty';
    return;
  }
  document.body.dataset.state = 'checking';
  const started = performance.now();
  try {
    state.report = check(files, options());
  } catch (err) {
    state.report = null;
    renderReport();
    setStatus(`Cannot check: ${err.message}`, true);
    document.body.dataset.state = 'error';
    return;
  }
  const took = performance.now() - started;
  renderReport();
  if (!diffBox.hidden) renderDiff();
  if (state.planned) runPlan();
  const s = state.report.summary;
  setStatus(`Checked ${plural(s.files, 'file')}, ${plural(s.documents, 'document')} in ${took.toFixed(1)} ms.`);
  state.checks++;
  document.body.dataset.checks = String(state.checks);
  document.body.dataset.state = 'done';
  window.__dplintTiming.firstResult ??= performance.now();
}

function renderCluster(report) {
  clusterBox.replaceChildren();
  const row = (term, value, source) => {
    clusterBox.append(el('dt', {}, term), el('dd', {}, value, source ? el('div', { class: 'source' }, source) : null));
  };
  if (!report) {
    row('kube-proxy', 'not in input');
    row('Calico', 'not in input');
    return;
  }
  const c = report.cluster;
  const kp = c.kubeProxy;
  row(
    'kube-proxy',
    kp.status === 'running' ? `${kp.mode} mode` : kp.status === 'disabled' ? 'disabled' : 'not in input',
    kp.source ?? undefined,
  );
  if (c.calico) {
    const scopes = c.calico.scopes.map((s) => `; ${s.dataplane} on ${s.scope} (${s.source})`).join('');
    row('Calico', `${c.calico.dataplane} dataplane (${c.calico.install} install)${scopes}`, c.calico.source);
  } else {
    row('Calico', 'not in input');
  }
  row('Kubernetes', c.kubernetesVersion, c.kubernetesVersionSource);
  row('Calico version', c.calicoVersion, c.calicoVersionSource);
  clusterBox.dataset.kubeProxyMode = kp.mode ?? kp.status;
  clusterBox.dataset.calicoDataplane = c.calico?.dataplane ?? 'none';
}

function renderFinding(f) {
  const where = `${f.file}:${f.line}:${f.column}`;
  const explainButton = el(
    'button',
    { type: 'button', class: 'rule', 'data-testid': 'explain-button', 'aria-haspopup': 'dialog', title: 'Explain this rule' },
    `${f.code} ${f.name}`,
  );
  explainButton.addEventListener('click', () => showExplanation(f.code));
  const whereButton = el('button', { type: 'button', class: 'where', title: 'Show the lines' }, where);
  whereButton.addEventListener('click', () => goTo(f));
  const help = el('div', { class: 'help' });
  help.append(markdown(f.help, { lineBreaks: true }));
  const fix = f.fix
    ? el(
        'p',
        { class: 'fix', 'data-testid': 'fix', 'data-applicability': f.fix.applicability },
        el('strong', {}, 'Fix: '),
        f.fix.title,
        ' ',
        el('span', { class: `badge ${f.fix.applicability}`, title: f.fix.applicability === 'safe' ? 'Keeps what the file means' : 'Changes behaviour; read the diff first' }, f.fix.applicability),
      )
    : null;
  return el(
    'li',
    {
      class: 'finding',
      'data-testid': 'finding',
      'data-code': f.code,
      'data-name': f.name,
      'data-severity': f.severity,
      'data-line': f.line,
      'data-file': f.file,
    },
    el('div', { class: 'head' }, el('span', { class: `badge ${f.severity}` }, f.severity), explainButton, whereButton),
    el('p', { class: 'message' }, f.message),
    fix,
    help,
  );
}

function renderReport() {
  const report = state.report;
  renderCluster(report);
  findingsBox.replaceChildren();
  const counts = $('counts');
  if (!report) {
    counts.textContent = '';
    findingsBox.append(el('p', { class: 'empty' }, 'No input yet.'));
  } else {
    const s = report.summary;
    counts.textContent = `${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.infos} info`;
    if (report.findings.length === 0) findingsBox.append(el('p', { class: 'empty', 'data-testid': 'no-findings' }, 'No findings.'));
    for (const [severity, title] of SEVERITIES) {
      const group = report.findings.filter((f) => f.severity === severity);
      if (group.length === 0) continue;
      const id = `group-${severity}`;
      findingsBox.append(
        el(
          'section',
          { class: 'group', 'aria-labelledby': id, 'data-severity': severity },
          el('h3', { id }, `${title} (${group.length})`),
          el('ul', {}, ...group.map(renderFinding)),
        ),
      );
    }
  }
  renderTabs();
  renderBackdrop();
}

function showExplanation(code) {
  let rule;
  try {
    rule = explain(code);
  } catch (err) {
    setStatus(err.message, true);
    return;
  }
  $('explain-title').textContent = `${rule.code} ${rule.name} (${rule.severity})`;
  const body = $('explain-body');
  body.replaceChildren(el('p', {}, el('strong', {}, rule.summary)), markdown(rule.documentation));
  dialog.dataset.code = rule.code;
  dialog.showModal();
  $('explain-close').focus();
}

// ---------------------------------------------------------------- fixes of the active file

function checkedFiles() {
  return state.files.filter((f) => f.text.trim() !== '' || f.name !== PASTED).map((f) => ({ name: f.name, content: f.text }));
}

/** The active file with the fixes applied (safe ones, or all with the checkbox), checked as one cluster with the others. */
function fixActive() {
  const files = checkedFiles();
  const name = activeFile().name;
  if (!state.ready || !files.some((f) => f.name === name)) return null;
  const result = applyFixes(files, unsafeBox.checked ? 'all' : 'safe', options());
  return {
    file: result.files.find((f) => f.name === name),
    applied: result.applied.filter((a) => a.file === name),
    notices: result.notices.filter((n) => n.file === name),
  };
}

function summarise(fixed) {
  const { file, applied, notices } = fixed;
  const parts = [applied.length ? `${applied.length} ${applied.length === 1 ? 'fix' : 'fixes'} applied to ${file.name}: ${applied.map((a) => `${a.code} ${a.title} (${a.applicability})`).join('; ')}.` : `No ${unsafeBox.checked ? '' : 'safe '}fix applies to ${file.name}.`];
  for (const n of notices) parts.push(`Not applied: ${n.code} ${n.title} (line ${n.line}): ${n.reason}.`);
  const unsafeLeft = !unsafeBox.checked && (state.report?.findings ?? []).some((f) => f.file === file.name && f.fix?.applicability === 'unsafe');
  if (unsafeLeft) parts.push('Unsafe fixes are left out; tick "Include unsafe fixes" to see them.');
  fixSummary.textContent = parts.join(' ');
}

/** A unified diff as text nodes, with added, removed and hunk lines marked. */
function diffLines(diff) {
  const fragment = document.createDocumentFragment();
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    const cls = line.startsWith('@@') ? 'hunk' : line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : null;
    fragment.append(cls ? el('span', { class: cls }, line) : line, '\n');
  }
  return fragment;
}

/** Renders the active file's fixed diff. */
function renderDiff() {
  let fixed;
  try {
    fixed = fixActive();
  } catch (err) {
    setStatus(`Cannot fix: ${err.message}`, true);
    return;
  }
  const fragment = document.createDocumentFragment();
  if (!fixed || !fixed.file.changed) {
    fragment.append(fixed ? 'The fixes leave this file as it is.' : 'Nothing to fix yet.');
  } else {
    fragment.append(diffLines(fixed.file.diff));
  }
  diffBox.replaceChildren(fragment);
  diffBox.dataset.changed = String(Boolean(fixed?.file.changed));
  if (fixed) summarise(fixed);
  else fixSummary.textContent = '';
}

function toggleDiff() {
  const show = diffBox.hidden;
  diffBox.hidden = !show;
  diffButton.setAttribute('aria-expanded', String(show));
  diffButton.textContent = show ? 'Hide fixed diff' : 'Show fixed diff';
  if (show) renderDiff();
}

/** The fixed text of the active file, or null (with the reason in the status line). */
function fixedText() {
  try {
    const fixed = fixActive();
    if (!fixed) {
      setStatus('Paste manifests or drop files first.');
      return null;
    }
    summarise(fixed);
    return fixed.file;
  } catch (err) {
    setStatus(`Cannot fix: ${err.message}`, true);
    return null;
  }
}

let downloadUrl;
function downloadFixed() {
  const file = fixedText();
  if (!file) return;
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([file.text], { type: 'application/yaml' }));
  const link = el('a', { href: downloadUrl, download: file.name.split('/').pop(), class: 'visually-hidden', 'data-testid': 'fix-download-link' }, `Download ${file.name}`);
  document.querySelector('[data-testid="fix-download-link"]')?.remove();
  document.body.append(link);
  link.click();
  setStatus(`Downloaded the fixed ${file.name}${file.changed ? '' : ' (unchanged: no fix applies)'}.`);
}

async function copyFixed() {
  const file = fixedText();
  if (!file) return;
  const ok = await copyText(file.text);
  setStatus(ok ? `Fixed ${file.name} copied to the clipboard.` : 'Could not copy; download the fixed file instead.', !ok);
}

// ---------------------------------------------------------------- the plan to a proxy mode

/** A button that copies `text` and says so; `what` names it for screen readers and the status line. */
function copyButton(text, what, testid = 'plan-copy-button') {
  const button = el('button', { type: 'button', class: 'copy', 'aria-label': `Copy ${what}`, 'data-testid': testid }, 'Copy');
  button.addEventListener('click', async () => {
    const ok = await copyText(text);
    button.textContent = ok ? 'Copied' : 'Copy failed';
    button.dataset.copied = String(ok);
    setStatus(ok ? `Copied ${what} to the clipboard.` : `Could not copy ${what}; select it and copy it.`, !ok);
  });
  return button;
}

/** One command with its copy button, and what it should print. */
function renderCommand(command, kind) {
  const item = el(
    'li',
    { class: 'command', 'data-testid': 'plan-command', 'data-kind': kind },
    el('div', { class: 'snippet' }, el('pre', {}, el('code', { class: 'language-sh' }, command.command)), copyButton(command.command, `the ${kind} command ${command.command}`)),
  );
  if (command.expect) item.append(el('p', { class: 'expect', 'data-testid': 'plan-expect' }, el('strong', {}, 'Expect: '), el('code', {}, command.expect)));
  return item;
}

function renderCommands(commands, kind, title, id) {
  if (commands.length === 0) return null;
  return el(
    'div',
    { class: 'commands', 'data-kind': kind },
    el('h4', { id }, title),
    el('ul', { 'aria-labelledby': id }, ...commands.map((c) => renderCommand(c, kind))),
  );
}

function renderStep(step, index, count) {
  const n = index + 1;
  const id = `plan-step-${n}`;
  const body = el(
    'li',
    { class: 'plan-step', 'data-testid': 'plan-step', 'data-step': n, 'aria-labelledby': id },
    el('h3', { id }, el('span', { class: 'step-number' }, `Step ${n} of ${count}: `), step.title),
    inline(step.why, el('p', { class: 'why', 'data-testid': 'plan-why' })),
  );
  if (step.fixes.length) body.append(el('p', { class: 'hint' }, el('strong', {}, 'Fixes: '), step.fixes.join('; ')));
  step.changes.forEach((change, i) => {
    const label = `diff of ${change.file} in step ${n}`;
    const diffId = `${id}-diff-${i}`;
    body.append(
      el(
        'div',
        { class: 'change', 'data-testid': 'plan-change', 'data-file': change.file },
        el('h4', { id: diffId }, 'Change to ', el('code', {}, change.file)),
        el(
          'div',
          { class: 'snippet' },
          el('pre', { class: 'diff', tabindex: '0', 'aria-labelledby': diffId, 'data-testid': 'plan-diff' }, diffLines(change.diff)),
          copyButton(change.diff, `the ${label}`),
        ),
      ),
    );
  });
  for (const part of [renderCommands(step.apply, 'apply', 'Apply', `${id}-apply`), renderCommands(step.verify, 'verify', 'Verify', `${id}-verify`)]) {
    if (part) body.append(part);
  }
  const rollbackId = `${id}-rollback`;
  body.append(
    el(
      'div',
      { class: 'rollback', 'data-testid': 'plan-rollback' },
      el('h4', { id: rollbackId }, 'Roll back'),
      el('div', { class: 'snippet' }, inline(step.rollback, el('p', { 'aria-labelledby': rollbackId })), copyButton(step.rollback, `the roll-back of step ${n}`)),
    ),
  );
  const errors = step.check.errors;
  const check = el(
    'div',
    { class: `step-check ${errors.length ? 'failed' : 'passed'}`, 'data-testid': 'plan-check', 'data-errors': errors.length },
    el('h4', {}, 'Self-check'),
    el(
      'p',
      {},
      errors.length
        ? `${plural(errors.length, 'error-level consistency finding')} in the state this step leaves:`
        : 'No error-level consistency finding in the state this step leaves.',
    ),
  );
  if (errors.length) check.append(el('ul', {}, ...errors.map((e) => el('li', {}, e))));
  check.append(el('p', { class: 'source' }, `After it: ${step.check.cluster}`));
  body.append(check);
  return body;
}

function renderPlan(result) {
  const out = document.createDocumentFragment();
  out.append(el('p', { class: 'plan-start', 'data-testid': 'plan-start' }, el('strong', {}, 'From: '), result.start));
  if (result.blockers.length) {
    out.append(
      el(
        'section',
        { class: 'blockers', 'aria-labelledby': 'plan-blockers-heading', 'data-testid': 'plan-blockers' },
        el('h3', { id: 'plan-blockers-heading' }, `Preconditions not met (${result.blockers.length})`),
        el(
          'ul',
          {},
          ...result.blockers.map((b) =>
            el('li', { class: 'blocker', 'data-testid': 'plan-blocker' }, el('p', { class: 'what' }, b.what), inline(b.instead, el('p', { class: 'instead' }, el('strong', {}, 'Instead: ')))),
          ),
        ),
      ),
    );
  }
  if (result.steps.length) {
    out.append(el('ol', { class: 'plan-steps', 'aria-label': `Steps to ${result.target}` }, ...result.steps.map((s, i) => renderStep(s, i, result.steps.length))));
  } else if (!result.blockers.length) {
    out.append(el('p', { class: 'empty', 'data-testid': 'plan-no-steps' }, `Nothing to change: the files already run ${result.target}.`));
  }
  const outcome = el(
    'div',
    { class: `plan-result ${result.reachable ? 'reached' : 'not-reached'}`, 'data-testid': 'plan-result', 'data-reachable': String(result.reachable) },
    el('p', {}, result.reachable ? `${result.target} is reached cleanly: no warning or error from the migration and consistency rules.` : `${result.target} is not reached cleanly.`),
  );
  if (result.remaining.length) outcome.append(el('ul', {}, ...result.remaining.map((r) => el('li', {}, r))));
  out.append(outcome);
  planBox.replaceChildren(out);
  planBox.dataset.target = result.target;
  planBox.dataset.steps = String(result.steps.length);
  planBox.dataset.blockers = String(result.blockers.length);
}

/** Plans the move of the files to the chosen target and shows it; follows the input once shown. */
function runPlan() {
  if (!state.ready) return;
  state.planned = true;
  const files = checkedFiles();
  planCopy.hidden = true;
  if (files.length === 0) {
    planBox.replaceChildren(el('p', { class: 'empty' }, 'Paste manifests or drop files to plan their move.'));
    planBox.dataset.steps = '0';
    delete planBox.dataset.target;
    return;
  }
  let result;
  try {
    result = plan(files, planTarget.value, options());
  } catch (err) {
    planBox.replaceChildren(el('p', { class: 'status error', 'data-testid': 'plan-error' }, `Cannot plan: ${err.message}`));
    delete planBox.dataset.target;
    return;
  }
  renderPlan(result);
  planCopy.hidden = false;
}

async function copyPlan() {
  let text;
  try {
    text = planMarkdown(checkedFiles(), planTarget.value, options());
  } catch (err) {
    setStatus(`Cannot plan: ${err.message}`, true);
    return;
  }
  const ok = await copyText(text);
  setStatus(ok ? 'The plan is on the clipboard as Markdown.' : 'Could not copy the plan.', !ok);
}

// ---------------------------------------------------------------- dropping and choosing files

function isManifest(name) {
  const dot = name.lastIndexOf('.');
  return dot > 0 && MANIFEST_EXTENSIONS.includes(name.slice(dot + 1).toLowerCase());
}

function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

/** Walks a dropped folder like the CLI walks a directory: manifests only, sorted, hidden entries skipped. */
async function fromEntry(entry, out, explicit) {
  if (!explicit && entry.name.startsWith('.')) return;
  if (entry.isDirectory) {
    const reader = entry.createReader();
    const all = [];
    for (;;) {
      const batch = await readEntries(reader);
      if (batch.length === 0) break;
      all.push(...batch);
    }
    all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const child of all) await fromEntry(child, out, false);
  } else if (entry.isFile && (explicit || isManifest(entry.name))) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    out.push({ name: entry.fullPath.replace(/^\//, ''), text: await file.text() });
  }
}

async function fromFileList(list, folder) {
  const out = [];
  const files = [...list].filter((f) => {
    const path = f.webkitRelativePath || f.name;
    return !folder || (isManifest(f.name) && !path.split('/').some((part) => part.startsWith('.')));
  });
  files.sort((a, b) => ((a.webkitRelativePath || a.name) < (b.webkitRelativePath || b.name) ? -1 : 1));
  for (const file of files) out.push({ name: file.webkitRelativePath || file.name, text: await file.text() });
  return out;
}

async function onDrop(event) {
  event.preventDefault();
  $('drop-zone').classList.remove('over');
  const dt = event.dataTransfer;
  if (!dt) return;
  const entries = [...(dt.items ?? [])].filter((i) => i.kind === 'file').map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  let files = [];
  try {
    if (entries.length > 0) {
      for (const entry of entries) await fromEntry(entry, files, true);
    } else {
      files = await fromFileList(dt.files, false);
    }
  } catch (err) {
    setStatus(`Cannot read the dropped files: ${err.message}`, true);
    return;
  }
  if (files.length === 0 && dt.getData('text/plain')) {
    input.value = dt.getData('text/plain');
    onInput();
    return;
  }
  addFiles(files);
}

// ---------------------------------------------------------------- share links (content in the fragment only)

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function shareLink() {
  const payload = { f: state.files.map((f) => [f.name, f.text]) };
  if (kubeSelect.value) payload.k = kubeSelect.value;
  if (calicoSelect.value) payload.c = calicoSelect.value;
  const url = new URL(location.href);
  url.hash = SHARE_PREFIX.slice(1) + toBase64Url(JSON.stringify(payload));
  return url.toString();
}

function loadFromHash() {
  if (!location.hash.startsWith(SHARE_PREFIX)) return false;
  try {
    const payload = JSON.parse(fromBase64Url(location.hash.slice(SHARE_PREFIX.length)));
    const files = (payload.f ?? []).filter((f) => Array.isArray(f) && typeof f[0] === 'string' && typeof f[1] === 'string');
    if (files.length === 0) return false;
    state.files = files.map(([name, text]) => ({ name, text }));
    if (known.kubernetes.includes(payload.k)) kubeSelect.value = payload.k;
    if (known.calico.includes(payload.c)) calicoSelect.value = payload.c;
    selectFile(0);
    return true;
  } catch {
    setStatus('The link does not hold a valid shared check.', true);
    return false;
  }
}

// ---------------------------------------------------------------- wiring

function onInput() {
  activeFile().text = input.value;
  state.current = null;
  renderBackdrop();
  scheduleCheck();
}

function fillSelect(select, versions, autoLabel) {
  select.append(el('option', { value: '' }, autoLabel));
  for (const v of versions) select.append(el('option', { value: v }, v));
}

diffButton.addEventListener('click', toggleDiff);
$('plan-button').addEventListener('click', runPlan);
planTarget.addEventListener('change', () => {
  if (state.planned) runPlan();
});
planCopy.addEventListener('click', copyPlan);
$('fix-copy').addEventListener('click', copyFixed);
$('fix-download').addEventListener('click', downloadFixed);
unsafeBox.addEventListener('change', () => {
  if (!diffBox.hidden) renderDiff();
});
kubeSelect.addEventListener('change', () => scheduleCheck(0));
calicoSelect.addEventListener('change', () => scheduleCheck(0));
input.addEventListener('input', onInput);
input.addEventListener('scroll', syncScroll);
$('explain-close').addEventListener('click', () => dialog.close());
dialog.addEventListener('click', (event) => {
  if (event.target === dialog) dialog.close();
});
$('clear').addEventListener('click', () => {
  state.files = [{ name: PASTED, text: '' }];
  state.current = null;
  history.replaceState(null, '', location.pathname + location.search);
  selectFile(0);
  scheduleCheck(0);
  input.focus();
});
$('share').addEventListener('click', async () => {
  const link = shareLink();
  history.replaceState(null, '', link);
  const ok = await copyText(link);
  const note = link.length > LONG_LINK ? ` It is ${link.length} characters long; some tools cut long links.` : '';
  setStatus(
    (ok ? 'Share link copied. ' : 'Share link is in the address bar. ') +
      `The manifests are in its #fragment, which browsers never send to a server.${note}`,
  );
});
const dropZone = $('drop-zone');
for (const target of [dropZone, $('editor')]) {
  target.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
  target.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  target.addEventListener('drop', onDrop);
}
$('file-input').addEventListener('change', async (event) => {
  addFiles(await fromFileList(event.target.files, false));
  event.target.value = '';
});
$('folder-input').addEventListener('change', async (event) => {
  addFiles(await fromFileList(event.target.files, true));
  event.target.value = '';
});
window.addEventListener('hashchange', () => {
  if (loadFromHash()) scheduleCheck(0);
});

selectFile(0);
renderReport();
init()
  .then(() => {
    state.ready = true;
    window.__dplintTiming.wasmReady = performance.now();
    $('version').textContent = version();
    Object.assign(known, versions());
    fillSelect(kubeSelect, known.kubernetes, `From the input (else ${known.defaultKubernetes})`);
    fillSelect(calicoSelect, known.calico, 'From the input (else newest)');
    document.body.dataset.state = 'ready';
    setStatus('Ready. Paste manifests or drop files to check them.');
    loadFromHash();
    runCheck();
  })
  .catch((err) => {
    setStatus(`The checker could not load: ${err.message}`, true);
    document.body.dataset.state = 'failed';
  });
