#!/usr/bin/env node
// dplint-wasm: the `dplint` command line on the WebAssembly engine, for Node-based CI.
// Same inputs (files, directories walked recursively for .yaml/.yml/.json, sorted, hidden
// entries skipped; `-` for standard input), formats and exit codes as `dplint`:
//   0  no finding at or above --fail-on (default error)
//   1  findings at or above --fail-on
//   2  usage error, invalid settings file, or an input that could not be read
import { readFileSync, readdirSync, lstatSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { run, rules, explainText, version, parseSettings, MAX_FILE_BYTES } from '../node.js';

const EXIT_OK = 0;
const EXIT_FINDINGS = 1;
const EXIT_USAGE = 2;
const EXTENSIONS = ['yaml', 'yml', 'json'];
const FORMATS = ['text', 'json', 'sarif', 'junit', 'github'];

class UsageError extends Error {}

const HELP = `dplint-wasm ${version()}: checks kube-proxy and Calico dataplane configuration (dplint on WebAssembly)

Usage:
  dplint-wasm check [PATHS]...   check files and directories (default: .); - reads standard input
  dplint-wasm rules [--format text|json]
  dplint-wasm explain RULE       a rule, by code (KP201) or name (ipvs-mode-deprecated)

Options of check:
  -f, --format FORMAT          text | json | sarif | junit | github (default text)
      --fail-on LEVEL          error | warning | info | never (default error, or failOn in .dplint.yaml)
      --kubernetes-version V   Kubernetes version to check for, e.g. 1.40
      --calico-version V       Calico version to check for, e.g. 3.31
      --os OS                  linux | windows
      --node-kernel RELEASE    kernel release of a node, as printed by uname -r (repeatable)
      --helm-values FILE       a tigera-operator Helm values file (repeatable)
      --per-file               check each file on its own
      --stdin-name NAME        name to report for standard input (default <stdin>)
      --config FILE            settings file (default: the nearest .dplint.yaml)
      --no-config              read no settings file
      --color auto|always|never
  -j, --jobs N                 accepted for compatibility; the module runs on one thread

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage error or unreadable input.`;

// Options that take a value, and whether they repeat.
const VALUE_OPTIONS = {
  '--format': false,
  '--fail-on': false,
  '--kubernetes-version': false,
  '--calico-version': false,
  '--os': false,
  '--node-kernel': true,
  '--helm-values': true,
  '--stdin-name': false,
  '--config': false,
  '--color': false,
  '--jobs': false,
};
const FLAG_OPTIONS = ['--per-file', '--no-config', '--help', '--version'];
const SHORT = { '-f': '--format', '-j': '--jobs', '-h': '--help', '-V': '--version' };

function parseArgs(argv) {
  const positional = [];
  const values = {};
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (onlyPositional || arg === '-' || !arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositional = true;
      continue;
    }
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (!arg.startsWith('--') && arg.length > 2 && SHORT[arg.slice(0, 2)]) {
      value = arg.slice(2);
      arg = arg.slice(0, 2);
    }
    arg = SHORT[arg] ?? arg;
    if (FLAG_OPTIONS.includes(arg)) {
      if (value !== undefined) throw new UsageError(`${arg} takes no value`);
      values[arg] = true;
    } else if (arg in VALUE_OPTIONS) {
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
        value = argv[++i];
      }
      if (VALUE_OPTIONS[arg]) {
        (values[arg] ??= []).push(value);
      } else {
        if (arg in values) throw new UsageError(`${arg} given more than once`);
        values[arg] = value;
      }
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return { positional, values };
}

function oneOf(name, value, allowed) {
  if (value !== undefined && !allowed.includes(value)) {
    throw new UsageError(`invalid value ${JSON.stringify(value)} for ${name} (expected ${allowed.join(', ')})`);
  }
  return value;
}

// --- ignorePaths: globset's default syntax (`*` and `**` also match `/`; `?`, `[...]`, `{a,b}`) ---

function globToRegExp(glob) {
  let out = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const c = glob[i];
    if (c === '*') {
      const double = glob[i + 1] === '*';
      const atStart = i === 0 || glob[i - 1] === '/';
      if (double && atStart && glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 3;
        continue;
      }
      if (double && atStart && i + 2 === glob.length && i > 0) {
        out += '.*';
        i += 2;
        continue;
      }
      out += '.*';
      i += double ? 2 : 1;
    } else if (c === '?') {
      out += '.';
      i++;
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new Error(`unclosed character class in ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      out += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = end + 1;
    } else if (c === '{') {
      braces++;
      out += '(?:';
      i++;
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
      i++;
    } else if (c === ',' && braces > 0) {
      out += '|';
      i++;
    } else if (c === '\\' && i + 1 < glob.length) {
      out += glob[i + 1].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i += 2;
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i++;
    }
  }
  if (braces > 0) throw new Error(`unclosed alternation in ${JSON.stringify(glob)}`);
  return new RegExp('^' + out + '$', 's');
}

function ignoreMatcher(patterns) {
  const regexps = patterns.map((p) => {
    try {
      return globToRegExp(p);
    } catch (err) {
      throw new UsageError(`ignorePaths: ${JSON.stringify(p)}: ${err.message}`);
    }
  });
  return (path) => {
    const relative = path.startsWith('./') ? path.slice(2) : path;
    return regexps.some((r) => r.test(relative) || r.test(path));
  };
}

// --- inputs, collected like the CLI's (Rust `Path::join` naming, byte-wise sorted) ---

function joinPath(dir, name) {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

function isDir(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function collect(paths, ignored, unreadable) {
  const out = [];
  for (const path of paths) {
    if (path === '-') {
      out.push({ stdin: true });
    } else if (isDir(path)) {
      walk(path, ignored, out, unreadable);
    } else if (existsSync(path)) {
      if (!ignored(path)) out.push({ path });
    } else {
      unreadable.push({ name: path, reason: 'no such file or directory' });
    }
  }
  return out;
}

function walk(dir, ignored, out, unreadable) {
  let names;
  try {
    names = readdirSync(dir);
  } catch (err) {
    unreadable.push({ name: dir, reason: err.message });
    return;
  }
  names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const path = joinPath(dir, name);
    if (ignored(path)) continue;
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    // Hidden entries (.git, .github, .dplint.yaml) are tooling, not manifests.
    if (name.startsWith('.')) continue;
    if (stat.isDirectory()) {
      walk(path, ignored, out, unreadable);
    } else {
      const dot = name.lastIndexOf('.');
      const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
      if (EXTENSIONS.includes(extension)) out.push({ path });
    }
  }
}

function readInput(input, stdinName) {
  if (input.stdin) {
    let bytes;
    try {
      bytes = readFileSync(0);
    } catch (err) {
      return { error: { name: stdinName, reason: err.message } };
    }
    if (bytes.length > MAX_FILE_BYTES) {
      return { error: { name: stdinName, reason: `standard input is larger than ${MAX_FILE_BYTES} bytes` } };
    }
    return { file: { name: stdinName, content: bytes } };
  }
  try {
    const size = statSync(input.path).size;
    if (size > MAX_FILE_BYTES) {
      return { error: { name: input.path, reason: `file is ${size} bytes, larger than ${MAX_FILE_BYTES} bytes` } };
    }
    return { file: { name: input.path, content: readFileSync(input.path) } };
  } catch (err) {
    return { error: { name: input.path, reason: err.message } };
  }
}

function findSettingsUpward(start) {
  let dir = start;
  for (;;) {
    const candidate = join(dir, '.dplint.yaml');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // keep looking
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function loadSettings(values) {
  if (values['--no-config']) {
    if (values['--config'] !== undefined) throw new UsageError('--config and --no-config exclude each other');
    return { text: undefined, name: '', parsed: {} };
  }
  const path = values['--config'] ?? findSettingsUpward(process.cwd());
  if (path === undefined) return { text: undefined, name: '', parsed: {} };
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read settings file ${path}: ${err.message}`);
  }
  try {
    return { text, name: path, parsed: parseSettings(text) };
  } catch (err) {
    throw new UsageError(`invalid settings in ${path}:\n  ${err.message}`);
  }
}

function check(argv) {
  const { positional, values } = parseArgs(argv);
  if (values['--help']) {
    process.stdout.write(HELP + '\n');
    return EXIT_OK;
  }
  const format = oneOf('--format', values['--format'], FORMATS) ?? 'text';
  const failOn = oneOf('--fail-on', values['--fail-on'], ['error', 'warning', 'info', 'never']);
  const os = oneOf('--os', values['--os'], ['linux', 'windows']);
  const color = oneOf('--color', values['--color'], ['auto', 'always', 'never']) ?? 'auto';
  if (values['--jobs'] !== undefined && !/^\d+$/.test(values['--jobs'])) {
    throw new UsageError(`invalid value ${JSON.stringify(values['--jobs'])} for --jobs`);
  }
  const settings = loadSettings(values);
  const ignored = ignoreMatcher(settings.parsed.ignorePaths ?? []);
  const stdinName = values['--stdin-name'] ?? '<stdin>';

  const options = { format, origin: 'cli' };
  if (settings.text !== undefined) {
    options.settings = settings.text;
    options.settingsName = settings.name;
  }
  if (failOn !== undefined) options.failOn = failOn;
  if (os !== undefined) options.os = os;
  if (values['--kubernetes-version'] !== undefined) options.kubernetesVersion = values['--kubernetes-version'];
  if (values['--calico-version'] !== undefined) options.calicoVersion = values['--calico-version'];
  if (values['--node-kernel']) options.nodeKernels = values['--node-kernel'];
  if (values['--per-file']) options.perFile = true;
  options.color =
    color === 'always' || (color === 'auto' && process.stdout.isTTY === true && process.env.NO_COLOR === undefined);

  const unreadable = [];
  const files = [];
  const paths = positional.length > 0 ? positional : ['.'];
  for (const input of collect(paths, ignored, unreadable)) {
    const { file, error } = readInput(input, stdinName);
    if (file) files.push(file);
    else unreadable.push(error);
  }
  const valueInputs = collect(values['--helm-values'] ?? [], ignored, unreadable);
  for (const input of valueInputs) {
    const { file, error } = readInput(input, stdinName);
    if (file) files.push({ ...file, role: 'helm-values' });
    else unreadable.push(error);
  }

  if (unreadable.length > 0) options.inputErrors = unreadable.map((u) => ({ file: u.name, message: u.reason }));
  let result;
  try {
    result = run(files, options);
  } catch (err) {
    throw new UsageError(err.message.replace(/^invalid option (\w+)/, (_, o) => `invalid --${kebab(o)}`));
  }
  process.stdout.write(result.output);
  for (const u of unreadable) process.stderr.write(`dplint-wasm: cannot read ${u.name}: ${u.reason}\n`);
  if (unreadable.length > 0) return EXIT_USAGE;
  return result.exitCode === 1 ? EXIT_FINDINGS : EXIT_OK;
}

function kebab(name) {
  return name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function listRules(argv) {
  const { positional, values } = parseArgs(argv);
  if (positional.length > 0) throw new UsageError(`unexpected argument ${positional[0]}`);
  const format = oneOf('--format', values['--format'], ['text', 'json']) ?? 'text';
  const all = rules();
  if (format === 'json') {
    process.stdout.write(JSON.stringify(all, null, 2) + '\n');
  } else {
    for (const r of all) {
      process.stdout.write(`${r.code.padEnd(6)} ${r.name.padEnd(40)} ${r.severity.padEnd(8)} ${r.summary}\n`);
    }
  }
  return EXIT_OK;
}

function explainRule(argv) {
  const { positional } = parseArgs(argv);
  if (positional.length !== 1) throw new UsageError('explain takes one rule code or name');
  let text;
  try {
    text = explainText(positional[0]);
  } catch {
    throw new UsageError(`no rule ${JSON.stringify(positional[0])}; \`dplint-wasm rules\` lists them`);
  }
  process.stdout.write(text);
  return EXIT_OK;
}

function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'check':
      return check(rest);
    case 'rules':
      return listRules(rest);
    case 'explain':
      return explainRule(rest);
    case '--version':
    case '-V':
      process.stdout.write(`dplint-wasm ${version()}\n`);
      return EXIT_OK;
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP + '\n');
      return EXIT_OK;
    case undefined:
      process.stderr.write(HELP + '\n');
      return EXIT_USAGE;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (expected check, rules or explain)`);
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`dplint-wasm: ${err instanceof UsageError ? err.message : err.stack}\n`);
  process.exitCode = EXIT_USAGE;
}
