/** A table's heading straight from the catalog, with its lineage. */
import { MissingTableError } from '../errors.js';
import type { Connection } from '../connection/connection.js';
import { Heading, attributeFromColumn } from '../heading/heading.js';
import { readLineage } from '../schema/lineage.js';

export async function loadHeading(conn: Connection, database: string, table: string): Promise<Heading> {
  const cols = await conn.catalog.columns(database, table);
  if (!cols.length) throw new MissingTableError(`Table ${conn.dialect.fullName(database, table)} does not exist`);
  const lineage = await readLineage(conn, database, table);
  return new Heading(
    cols.map((c) => attributeFromColumn(c, lineage?.get(c.name) ?? null, conn.dialect)),
    { lineageAvailable: lineage !== null },
  );
}
