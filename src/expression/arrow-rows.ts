/**
 * Rows of an Arrow table as plain objects: what insert stores (API.md §5) and what a
 * restriction by an Arrow table matches (an OR of its rows). A table is recognized by its
 * shape, so a Table of another copy of apache-arrow is read too.
 */

interface ArrowColumn {
  get(i: number): unknown;
}

interface ArrowField {
  name: string;
  type: { typeId: number; unit?: number };
}

export interface ArrowLike {
  numRows: number;
  schema: { fields: readonly ArrowField[] };
  getChild(name: string): ArrowColumn | null;
}

export function isArrowTable(x: unknown): x is ArrowLike {
  return typeof x === 'object' && x !== null && typeof (x as ArrowLike).getChild === 'function' && typeof (x as ArrowLike).numRows === 'number' && !!(x as ArrowLike).schema;
}

// apache-arrow's `Type` enum: Date = 8, Timestamp = 10.
const ARROW_DATE = 8;
const ARROW_TIMESTAMP = 10;

/** Rows of an Arrow table as plain objects (dates and timestamps as Date). */
export function arrowRows(t: ArrowLike): Record<string, unknown>[] {
  const fields = t.schema.fields;
  const readers = fields.map((f) => columnReader(f, t.getChild(f.name)!));
  const out: Record<string, unknown>[] = new Array(t.numRows);
  for (let i = 0; i < t.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (let j = 0; j < fields.length; j++) row[fields[j]!.name] = readers[j]!(i);
    out[i] = row;
  }
  return out;
}

/** The value of row i of a column, as insert and restrictions take it. */
function columnReader(f: ArrowField, col: ArrowColumn): (i: number) => unknown {
  const { typeId } = f.type;
  if (typeId === ARROW_DATE || typeId === ARROW_TIMESTAMP) {
    return (i) => {
      const v = col.get(i);
      return typeof v === 'number' || typeof v === 'bigint' ? new Date(Number(v)) : v;
    };
  }
  return (i) => col.get(i);
}
