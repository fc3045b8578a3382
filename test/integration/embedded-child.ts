/**
 * Child process for embedded-server.test.ts: calls ensureEmbeddedServer on the directory given as
 * argv[2], prints the info as one JSON line, and exits (leaving the server running).
 */
import { ensureEmbeddedServer } from '../../src/adapters/embedded/server.js';

const info = await ensureEmbeddedServer({ dir: process.argv[2]!, timeoutMs: 45_000 });
process.stdout.write(JSON.stringify(info) + '\n');
