#!/usr/bin/env node
/**
 * Entry of the `dj` command. Loading the library takes some tenths of a second, and a worker may
 * be stopped during them (a scheduler cancelling a job it just started): SIGINT and SIGTERM that
 * arrive then are held (held-signals.ts) and handed to the sub-command once it runs. `dj
 * populate` drains on them and exits cleanly; the others end as the signal would have ended them.
 */
import { holdSignals } from './held-signals.js';

holdSignals();
await import('./program.js');
