/**
 * Test projects: `unit` needs no server; `services` tests one service each (the PostgreSQL driver,
 * the embedded server, S3 stores) once; every other integration test runs once per backend
 * (`mysql`, `postgresql`, `embedded`), each project pointing the library at its server through
 * the DJ_* environment (child processes spawned by tests inherit it). Run one backend with
 * `npm test -- --project mysql`; DJ_TEST_BACKENDS=mysql,postgresql limits the set.
 */
import { defineConfig } from 'vitest/config';

const unit = ['test/unit/**/*.test.ts', 'test/blob-*.test.ts', 'test/native-*.test.ts'];
/** Integration tests of one service of their own (not of a DataJoint backend): run once. */
const services = ['test/integration/postgres-adapter.test.ts', 'test/integration/embedded-server.test.ts', 'test/integration/stores-s3.test.ts'];
const integration = ['test/**/*.test.ts'];

const backends: Record<string, Record<string, string>> = {
  mysql: { DJ_BACKEND: 'mysql', DJ_HOST: process.env.DJ_MYSQL_HOST ?? '127.0.0.1', DJ_PORT: process.env.DJ_MYSQL_PORT ?? '3306', DJ_USER: process.env.DJ_MYSQL_USER ?? 'root', DJ_PASS: process.env.DJ_MYSQL_PASS ?? '' },
  postgresql: { DJ_BACKEND: 'postgresql', DJ_HOST: process.env.DJ_PG_HOST ?? '127.0.0.1', DJ_PORT: process.env.DJ_PG_PORT ?? '5432', DJ_USER: process.env.DJ_PG_USER ?? 'postgres', DJ_PASS: process.env.DJ_PG_PASS ?? '' },
  // The library's own server, shared by every test process (started by the first that needs it).
  embedded: { DJ_BACKEND: 'embedded', DJ_EMBEDDED_DIR: process.env.DJ_TEST_EMBEDDED_DIR ?? `${process.cwd()}/.datajoint/test-embedded` },
};
const selected = (process.env.DJ_TEST_BACKENDS ?? Object.keys(backends).join(',')).split(',').map((s) => s.trim()).filter((b) => b in backends);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      { extends: true, test: { name: 'services', include: services, env: backends.postgresql! } },
      ...selected.map((name) => ({
        extends: true,
        test: { name, include: integration, exclude: [...unit, ...services, 'node_modules/**'], env: backends[name]! },
      })),
    ],
  },
});
