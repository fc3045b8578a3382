/**
 * Schemas created in this thread, on a global so that every copy of the library loaded in the
 * thread (and populate's worker entry, which imports none) can find table classes by name.
 */
import type { TableClass } from '../table/table.js';

export interface SchemaRegistry {
  add(s: { database: string; tables: Record<string, TableClass> }): void;
  /** The schemas registered so far, in order (`dj populate` finds a module's schemas by what it registered). */
  list(): ReadonlyArray<{ database: string; tables: Record<string, TableClass> }>;
  findTable(database: string, className: string): TableClass | undefined;
  /** The registered master class that holds `part` as a static property, if any. */
  findMaster(part: object): TableClass | undefined;
}

export function threadRegistry(): SchemaRegistry {
  const g = globalThis as { [k: symbol]: SchemaRegistry | undefined };
  const key = Symbol.for('datajoint.registry');
  if (!g[key]) {
    const schemas: Array<{ database: string; tables: Record<string, TableClass> }> = [];
    g[key] = {
      add: (s) => void schemas.push(s),
      list: () => [...schemas],
      findTable: (database, className) => {
        for (let i = schemas.length - 1; i >= 0; i--) if (schemas[i]!.database === database && schemas[i]!.tables[className]) return schemas[i]!.tables[className];
        return undefined;
      },
      findMaster: (part) => {
        for (let i = schemas.length - 1; i >= 0; i--)
          for (const master of Object.values(schemas[i]!.tables))
            for (const key of Object.getOwnPropertyNames(master)) {
              const d = Object.getOwnPropertyDescriptor(master, key);
              if (d && 'value' in d && d.value === part) return master;
            }
        return undefined;
      },
    };
  }
  return g[key]!;
}
