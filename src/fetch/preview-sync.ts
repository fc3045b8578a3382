/**
 * Synchronous preview for `String(expr)` and `console.log(expr)` (which cannot await), like
 * DataJoint Python's repr. The expression is described as plain data (tables by name,
 * operators with their arguments, restrictions), sent to a helper thread that rebuilds it on
 * its own connection and renders the preview, while this thread waits on a shared buffer
 * (Atomics.wait). Anything that cannot be described or fails returns null; callers fall back.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Not } from '../expression/condition.js';
import { isArrowTable, arrowRows } from '../expression/arrow-rows.js';
import { Top } from '../expression/top.js';
import type { QueryExpression } from '../expression/expression.js';
import { config } from '../config.js';
import { onCloseAll } from '../connection/connection.js';

export type CondDesc =
  | { t: 'value'; v: unknown }
  | { t: 'list'; items: CondDesc[] }
  | { t: 'not'; c: CondDesc }
  | { t: 'top'; limit: number | null; orderBy: string[] | null; offset: number }
  | { t: 'u'; attributes: string[] }
  | { t: 'expr'; e: ExprDesc };

export interface RestrictionDesc {
  condition: CondDesc;
  semanticCheck: boolean;
}

export type ExprDesc =
  | { kind: 'table'; database: string; table: string; restrictions: RestrictionDesc[] }
  | { kind: 'derived'; operator: string; operands: ExprDesc[]; params: unknown; restrictions: RestrictionDesc[] };

class NotDescribable extends Error {}

interface Describable {
  appliedRestrictions: ReadonlyArray<{ condition: unknown; semanticCheck: boolean }>;
  operator?: unknown;
  operands?: unknown;
  params?: unknown;
  database?: unknown;
  tableName?: unknown;
}

/** Plain-data description of an expression (throws NotDescribable). */
export function describeExpression(e: QueryExpression, toExpression: (x: unknown) => QueryExpression | null): ExprDesc {
  const d = e as unknown as Describable;
  const restrictions = d.appliedRestrictions.map((r) => ({ condition: describeCondition(r.condition, toExpression), semanticCheck: r.semanticCheck }));
  if (typeof d.operator === 'string' && Array.isArray(d.operands))
    return { kind: 'derived', operator: d.operator, operands: (d.operands as QueryExpression[]).map((o) => describeExpression(o, toExpression)), params: d.params, restrictions };
  if (typeof d.database === 'string' && typeof d.tableName === 'string') return { kind: 'table', database: d.database, table: d.tableName, restrictions };
  throw new NotDescribable(`cannot describe ${e.constructor.name}`);
}

function describeCondition(c: unknown, toExpression: (x: unknown) => QueryExpression | null): CondDesc {
  if (c instanceof Not) return { t: 'not', c: describeCondition(c.condition, toExpression) };
  if (c instanceof Top) return { t: 'top', limit: c.limit, orderBy: c.orderBy === null ? null : [...c.orderBy], offset: c.offset };
  if (Array.isArray(c) || c instanceof Set) return { t: 'list', items: [...c].map((x) => describeCondition(x, toExpression)) };
  if (typeof c === 'object' && c !== null && (c as { isUniversalSet?: unknown }).isUniversalSet === true)
    return { t: 'u', attributes: [...(c as { attributes: string[] }).attributes] };
  const e = toExpression(c);
  if (e) return { t: 'expr', e: describeExpression(e, toExpression) };
  if (isArrowTable(c)) return { t: 'list', items: arrowRows(c).map((v) => ({ t: 'value', v })) };
  return { t: 'value', v: c };
}

// The helper thread: plain JS, loads the runtime module (through tsx when it is TypeScript).
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
let runtime = null;
async function load() {
  if (/\\.[cm]?tsx?$/.test(workerData.runtime)) {
    if (!workerData.tsx) throw new Error('tsx is needed to load ' + workerData.runtime);
    (await import(workerData.tsx)).register();
  }
  return import(workerData.runtime);
}
parentPort.on('message', async (msg) => {
  const ctl = new Int32Array(msg.buffer, 0, 2);
  const bytes = new Uint8Array(msg.buffer, 8);
  let status = 1;
  let text;
  try {
    runtime ??= load();
    text = await (await runtime).runPreview(msg.desc, msg.config, msg.options);
  } catch (e) {
    status = 2;
    text = String((e && e.message) || e);
  }
  const enc = Buffer.from(text, 'utf8');
  const n = Math.min(enc.length, bytes.length);
  bytes.set(enc.subarray(0, n));
  Atomics.store(ctl, 1, n);
  Atomics.store(ctl, 0, status);
  Atomics.notify(ctl, 0);
});
`;

let worker: Worker | null = null;
const CAPACITY = 1 << 20;

function runtimeUrl(): string {
  const ext = /\.[cm]?[jt]sx?$/.exec(new URL(import.meta.url).pathname)?.[0] ?? '.js';
  return new URL(`./preview-runtime${ext}`, import.meta.url).href;
}

function tsxApi(): string | null {
  try {
    // require.resolve finds the CommonJS entry; the thread imports its ESM sibling.
    const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
    const esm = cjs.replace(/\.cjs$/, '.mjs');
    return pathToFileURL(existsSync(esm) ? esm : cjs).href;
  } catch {
    return null;
  }
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(BOOT, { eval: true, workerData: { runtime: runtimeUrl(), tsx: tsxApi() } });
  w.unref(); // an idle helper must not keep the process alive
  w.on('error', () => {
    if (worker === w) worker = null;
  });
  w.on('exit', () => {
    if (worker === w) worker = null;
  });
  if (!closeHookInstalled) {
    closeHookInstalled = true;
    onCloseAll(async () => {
      const current = worker;
      worker = null;
      await current?.terminate();
    });
  }
  worker = w;
  return w;
}
let closeHookInstalled = false;

/**
 * Preview text of an expression, computed synchronously on the helper thread; null when the
 * expression cannot be described or the preview fails (the message is in `lastError`).
 */
export function previewSync(e: QueryExpression, toExpression: (x: unknown) => QueryExpression | null, options: { limit?: number; width?: number } = {}): string | null {
  let desc: ExprDesc;
  try {
    desc = describeExpression(e, toExpression);
  } catch (err) {
    lastError = (err as Error).message;
    return null;
  }
  const conn = e.connection;
  const snapshot = { ...config.snapshot() } as Record<string, unknown>;
  const database = { ...((snapshot.database as Record<string, unknown> | undefined) ?? {}) };
  database.host = conn.options.host;
  database.port = conn.options.port;
  database.user = conn.options.user;
  snapshot.database = database;
  const buffer = new SharedArrayBuffer(8 + CAPACITY);
  const ctl = new Int32Array(buffer, 0, 2);
  try {
    getWorker().postMessage({ desc, config: snapshot, options, buffer });
  } catch (err) {
    lastError = (err as Error).message; // e.g. a condition value that cannot be cloned
    return null;
  }
  const timeout = Number(config.get('display.preview_timeout') ?? 30_000);
  if (Atomics.wait(ctl, 0, 0, Number.isFinite(timeout) ? timeout : 30_000) === 'timed-out') {
    lastError = 'timed out';
    return null;
  }
  const text = Buffer.from(new Uint8Array(buffer, 8, Atomics.load(ctl, 1))).toString('utf8');
  if (Atomics.load(ctl, 0) !== 1) {
    lastError = text;
    return null;
  }
  return text;
}

let lastError = '';

/** Why the last previewSync returned null. */
export function previewError(): string {
  return lastError;
}
