/**
 * How values of an attribute convert between JavaScript and SQL: one kind per family of core
 * types (and of the native types passed through). Kept apart from the type parser so the
 * backend interface can name it without importing the parser.
 */
export type ValueKind =
  | 'int'
  | 'bigint'
  | 'float'
  | 'decimal'
  | 'bool'
  | 'string'
  | 'enum'
  | 'date'
  | 'datetime'
  | 'time'
  | 'uuid'
  | 'json'
  | 'bytes'
  | 'other';
