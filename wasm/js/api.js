// The typed API over the wasm-bindgen bindings, shared by the Node and web entry points.
// Files and options cross into the module as JSON text plus one byte buffer; the report comes
// back as the exact text `dplint check --format json` prints.

/** Largest file the module accepts (bytes). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Largest total input of one call (bytes). */
export const MAX_TOTAL_BYTES = 256 * 1024 * 1024;

const encoder = new TextEncoder();

function toBytes(content, i) {
  if (typeof content === 'string') return encoder.encode(content);
  if (content instanceof Uint8Array) return content;
  if (content instanceof ArrayBuffer) return new Uint8Array(content);
  throw new TypeError(`files[${i}].content must be a string or a Uint8Array`);
}

function encodeFiles(files) {
  if (!Array.isArray(files)) throw new TypeError('files must be an array of {name, content}');
  const list = [];
  const parts = [];
  let total = 0;
  files.forEach((file, i) => {
    if (file === null || typeof file !== 'object') throw new TypeError(`files[${i}] must be an object {name, content}`);
    if (typeof file.name !== 'string') throw new TypeError(`files[${i}].name must be a string`);
    const bytes = toBytes(file.content, i);
    if (bytes.length > MAX_FILE_BYTES) {
      throw new RangeError(`files[${i}] (${file.name}) is ${bytes.length} bytes, larger than ${MAX_FILE_BYTES} bytes`);
    }
    total += bytes.length;
    if (total > MAX_TOTAL_BYTES) throw new RangeError(`the files total more than ${MAX_TOTAL_BYTES} bytes`);
    const entry = { name: file.name, length: bytes.length };
    if (file.role !== undefined) entry.role = file.role;
    list.push(entry);
    parts.push(bytes);
  });
  const data = new Uint8Array(total);
  let offset = 0;
  for (const bytes of parts) {
    data.set(bytes, offset);
    offset += bytes.length;
  }
  return { list: JSON.stringify(list), data };
}

function encodeOptions(options) {
  if (options === undefined || options === null) return '{}';
  if (typeof options !== 'object' || Array.isArray(options)) throw new TypeError('options must be an object');
  return JSON.stringify(options);
}

// A Rust panic would trap; the engine is fuzzed not to, but never let a trap look like a result.
function guard(fn) {
  try {
    return fn();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      const wrapped = new Error(`dplint-wasm internal error (${err.message}); please report it`);
      wrapped.cause = err;
      throw wrapped;
    }
    throw err;
  }
}

/** Builds the API over initialised bindings; `ready()` throws when they are not. */
export function makeApi(bindings, ready = () => {}) {
  function run(files, options) {
    ready();
    const { list, data } = encodeFiles(files);
    const opts = encodeOptions(options);
    return guard(() => {
      const out = bindings.checkFiles(list, data, opts);
      try {
        const reportJson = out.reportJson;
        return { report: JSON.parse(reportJson), reportJson, output: out.output, exitCode: out.exitCode };
      } finally {
        out.free();
      }
    });
  }
  function applyFixes(files, which, options) {
    ready();
    const { list, data } = encodeFiles(files);
    if (which !== 'safe' && which !== 'all' && !Array.isArray(which)) {
      const shown = typeof which === 'string' ? JSON.stringify(which) : typeof which;
      throw new TypeError(`applyFixes: which must be "safe", "all" or an array of findings (got ${shown})`);
    }
    const chosen = JSON.stringify(which);
    const opts = encodeOptions(options);
    return JSON.parse(guard(() => bindings.applyFixesJson(list, data, chosen, opts)));
  }
  function planAs(files, target, options, format, name) {
    ready();
    if (typeof target !== 'string') {
      throw new TypeError(`${name}: target must be "nftables", "iptables" or "ebpf" (got ${target === null ? 'null' : typeof target})`);
    }
    const { list, data } = encodeFiles(files);
    const opts = encodeOptions(options);
    return guard(() => bindings.planFiles(list, data, target, opts, format));
  }
  return {
    run,
    check: (files, options) => run(files, options).report,
    applyFixes,
    plan: (files, target, options) => JSON.parse(planAs(files, target, options, 'json', 'plan')),
    planText: (files, target, options) => planAs(files, target, options, 'text', 'planText'),
    planMarkdown: (files, target, options) => planAs(files, target, options, 'markdown', 'planMarkdown'),
    rules: () => {
      ready();
      return JSON.parse(guard(() => bindings.rulesJson()));
    },
    explain: (codeOrName) => {
      ready();
      if (typeof codeOrName !== 'string') throw new TypeError('explain: codeOrName must be a string');
      return JSON.parse(guard(() => bindings.explainJson(codeOrName)));
    },
    explainText: (codeOrName) => {
      ready();
      if (typeof codeOrName !== 'string') throw new TypeError('explainText: codeOrName must be a string');
      return guard(() => bindings.explainText(codeOrName));
    },
    version: () => {
      ready();
      return bindings.version();
    },
    versions: () => {
      ready();
      return JSON.parse(guard(() => bindings.versionsJson()));
    },
    parseSettings: (text) => {
      ready();
      if (typeof text !== 'string') throw new TypeError('parseSettings: text must be a string');
      return JSON.parse(guard(() => bindings.settingsJson(text)));
    },
  };
}
