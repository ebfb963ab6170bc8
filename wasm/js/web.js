// Web entry point: call `await init()` (optionally with the .wasm URL, a Response or bytes)
// before anything else. By default the module is fetched next to this file.
import initBindings, * as bindings from './dplint_wasm.js';
import { makeApi, MAX_FILE_BYTES, MAX_TOTAL_BYTES } from './api.js';

let loading;
let loaded = false;

export function init(moduleOrPath) {
  loading ??= initBindings(moduleOrPath === undefined ? undefined : { module_or_path: moduleOrPath }).then(() => {
    loaded = true;
  });
  return loading;
}

const api = makeApi(bindings, () => {
  if (!loaded) throw new Error('dplint-wasm: call `await init()` first');
});

export const { check, run, applyFixes, plan, planText, planMarkdown, rules, explain, explainText, version, versions, parseSettings } = api;
export { MAX_FILE_BYTES, MAX_TOTAL_BYTES };
