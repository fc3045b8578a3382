/**
 * `dj diagram <db_name> [-o file]`: the diagram of one schema, read from the catalog (no classes
 * needed). Without `-o` the DOT text goes to stdout, so it can be piped into other tools; with
 * `-o` the format follows the file's extension (.svg .png .dot .mmd).
 */
import { conn as sharedConnection, type Connection } from '../connection/connection.js';
import { catalogOf } from '../diagram/catalog.js';
import { Diagram } from '../diagram/diagram.js';

export interface DiagramCommandOptions {
  /** Output file; its extension picks the format. Without it, DOT is written to `out`. */
  output?: string;
  /** Connection to read from (default: the shared `dj.conn()`). */
  connection?: Connection;
  /** Where text output goes (default: process.stdout). */
  out?: (text: string) => void;
  /** Where error messages go (default: process.stderr). */
  err?: (text: string) => void;
}

/** Run the command; resolves to the process exit code (0 on success, 1 on a reported error). */
export async function runDiagramCommand(database: string, opts: DiagramCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  const err = opts.err ?? ((t: string) => void process.stderr.write(t));
  try {
    const connection = opts.connection ?? sharedConnection();
    if (!(await catalogOf(connection).databaseExists(database))) {
      err(`dj diagram: schema "${database}" does not exist\n`);
      return 1;
    }
    const diagram = new Diagram({ database, connection });
    if (opts.output) {
      await diagram.save(opts.output);
      err(`dj diagram: wrote ${opts.output}\n`);
    } else {
      out(await diagram.toDot());
    }
    return 0;
  } catch (e) {
    err(`dj diagram: ${(e as Error).message}\n`);
    return 1;
  }
}
