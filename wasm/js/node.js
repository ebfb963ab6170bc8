// Node entry point: the module is compiled synchronously on import.
import { readFileSync } from 'node:fs';
import * as bindings from './dplint_wasm.js';
import { makeApi, MAX_FILE_BYTES, MAX_TOTAL_BYTES } from './api.js';

bindings.initSync({ module: readFileSync(new URL('./dplint_wasm_bg.wasm', import.meta.url)) });

const api = makeApi(bindings);

export const { check, run, applyFixes, plan, planText, planMarkdown, rules, explain, explainText, version, versions, parseSettings } = api;
export { MAX_FILE_BYTES, MAX_TOTAL_BYTES };
/** Already initialised in Node; kept so code can call `await init()` on both entry points. */
export async function init() {}
