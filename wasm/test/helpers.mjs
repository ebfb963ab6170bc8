// Shared by the tests: paths, the native CLI, running the dplint-wasm bin, a static file server.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WASM_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(WASM_DIR, '..');
export const PKG = join(WASM_DIR, 'pkg');
export const BIN = join(PKG, 'bin', 'dplint-wasm.js');
export const WEB = join(WASM_DIR, 'web');
export const CORPUS = resolve(ROOT, '..', 'shared', 'corpus', 'raw');
export const ARTIFACTS = join(WASM_DIR, 'test-artifacts');

let nativeBinary;

/** The native `dplint` built from the same sources (`DPLINT_BIN` overrides). */
export function native() {
  if (nativeBinary) return nativeBinary;
  if (process.env.DPLINT_BIN) return (nativeBinary = process.env.DPLINT_BIN);
  const built = spawnSync('cargo', ['build', '-p', 'dplint', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) throw new Error('cargo build -p dplint failed');
  const metadata = spawnSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], { cwd: ROOT, encoding: 'utf8' });
  const targetDir = JSON.parse(metadata.stdout).target_directory;
  nativeBinary = join(targetDir, 'debug', 'dplint');
  return nativeBinary;
}

/** Runs a command; returns { status, stdout, stderr }. */
export function exec(command, args, { cwd = ROOT, input } = {}) {
  const result = spawnSync(command, args, { cwd, input, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function runNative(args, options) {
  return exec(native(), args, options);
}

export function runBin(args, options) {
  return exec(process.execPath, [BIN, ...args], options);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
};

/** A static file server for `root` on 127.0.0.1 and an ephemeral port. */
export function serveStatic(root) {
  const base = resolve(root);
  const requests = [];
  const server = createServer((req, res) => {
    requests.push(req.url);
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolveServer) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolveServer({ url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** Manifest files under a directory, walked like the CLI walks it. */
export function exists(path) {
  return existsSync(path);
}
