/**
 * The PostgreSQL backend: its dialect (pure text, loaded eagerly) and a factory that loads
 * `pg` and `pg-cursor` only when the first connection is made, so `import 'datajoint'` stays
 * light for MySQL users. Nothing here may import the driver statically.
 */
import type { Backend } from '../adapter.js';
import { postgresDialect } from './dialect.js';

export const postgres: Backend = {
  name: 'postgresql',
  dialect: postgresDialect,
  defaultPort: 5432,
  async connect(opts) {
    const { createPostgresAdapter } = await import('./driver.js');
    return createPostgresAdapter(opts);
  },
};

export { postgresDialect };
