/**
 * What other modules hook into a connection, registered here so that the modules above it (the
 * schemas, the heading cache) reach it without the connection importing them.
 */
import type { UnknownAttributeError } from '../errors.js';
import type { Connection } from './connection.js';

/** Work to do before a top-level transaction begins (e.g. declaring registered tables). */
export const beforeTransactionHooks = new Set<(c: Connection) => Promise<void>>();

/**
 * Register work that runs before every top-level transaction's BEGIN (errors are the hook's
 * business and ignored here). Schemas declare their registered tables this way, so that DDL
 * never runs inside a transaction (MySQL would commit it; PostgreSQL would roll the table back
 * with a failed transaction while the library believes it declared).
 */
export function onBeforeTransaction(fn: (c: Connection) => Promise<void>): void {
  beforeTransactionHooks.add(fn);
}

/** Turns the server's unknown-column error for a statement into a more telling one (or returns it). */
export type UnknownColumnHook = (c: Connection, sql: string, err: UnknownAttributeError) => Promise<Error>;
let unknownColumn: UnknownColumnHook | null = null;

/**
 * Register what explains an unknown column the server reports: the heading cache (which sits
 * above the connection) checks whether a table the statement names was altered by another process.
 */
export function onUnknownColumn(fn: UnknownColumnHook): void {
  unknownColumn = fn;
}

/** The registered explanation of unknown columns, if any. */
export const unknownColumnHook = (): UnknownColumnHook | null => unknownColumn;
