/**
 * The MySQL/MariaDB backend: its dialect (pure text, loaded eagerly) and a factory that loads
 * mysql2 only when the first connection is made.
 */
import type { Backend } from '../adapter.js';
import { mysqlDialect } from './dialect.js';

export const mysql: Backend = {
  name: 'mysql',
  dialect: mysqlDialect,
  defaultPort: 3306,
  async connect(opts) {
    const { createMysqlAdapter } = await import('./driver.js');
    return createMysqlAdapter(opts);
  },
};
