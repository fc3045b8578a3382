/**
 * Database users for privilege tests, in each backend's SQL (test code may speak dialects; the
 * library may not outside src/adapters).
 */
import type { Connection } from '../../src/connection/connection.js';

export type Privileges = 'select' | 'write';

/** Create (or reset) a login user with a password. */
export async function createUser(conn: Connection, name: string, password: string): Promise<void> {
  if (conn.dialect.name === 'mysql') {
    await conn.execute(`CREATE USER IF NOT EXISTS '${name}'@'%' IDENTIFIED BY '${password}'`);
    await conn.execute(`ALTER USER '${name}'@'%' IDENTIFIED BY '${password}'`);
  } else {
    await conn.execute(`DO $$BEGIN CREATE ROLE ${name} LOGIN PASSWORD '${password}'; EXCEPTION WHEN duplicate_object THEN NULL; END$$`);
  }
}

/** Grant read (SELECT) or data-entry (SELECT/INSERT/UPDATE/DELETE) privileges on one schema. */
export async function grant(conn: Connection, name: string, database: string, privileges: Privileges): Promise<void> {
  const what = privileges === 'select' ? 'SELECT' : 'SELECT, INSERT, UPDATE, DELETE';
  if (conn.dialect.name === 'mysql') {
    await conn.execute(`GRANT ${what} ON \`${database}\`.* TO '${name}'@'%'`);
  } else {
    await conn.execute(`GRANT USAGE ON SCHEMA "${database}" TO ${name}`);
    await conn.execute(`GRANT ${what} ON ALL TABLES IN SCHEMA "${database}" TO ${name}`);
  }
}

export async function dropUser(conn: Connection, name: string): Promise<void> {
  if (conn.dialect.name === 'mysql') await conn.execute(`DROP USER IF EXISTS '${name}'@'%'`);
  else await conn.execute(`DO $$BEGIN DROP OWNED BY ${name}; DROP ROLE IF EXISTS ${name}; EXCEPTION WHEN undefined_object THEN NULL; END$$`);
}
