/**
 * Bound parameters for a statement under construction: `add(value)` returns the dialect's
 * placeholder (`?` or `$n`) and keeps the value, converted as the attribute kind requires.
 */
import type { ValueKind } from '../heading/kinds.js';
import type { Dialect, SqlValue } from './adapter.js';

export class Bindings {
  readonly values: SqlValue[] = [];
  constructor(private readonly dialect: Dialect) {}

  add(value: SqlValue, kind?: ValueKind): string {
    this.values.push(kind ? this.dialect.bindValue(kind, value) : value);
    return this.dialect.param(this.values.length);
  }
}
