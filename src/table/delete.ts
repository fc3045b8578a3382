/**
 * Delete with cascade (API.md §5): the rows of a (restricted) table and, in one transaction,
 * every dependent row downstream, children before parents; part integrity keeps masters and
 * their parts together. The rows are planned by cascade.ts, which Diagram.cascade also uses;
 * the safemode prompt prints that plan's counts before anything is deleted.
 */
import { DataJointError, DeadlockError, ReferencedRowError } from '../errors.js';
import { retryWhen } from '../connection/retry.js';
import { type CascadeTarget, type PartIntegrity, countCascade, executeCascade, materializedCondition, planCascade } from './cascade.js';
import { confirm, shouldPrompt } from './prompt.js';

/** Tries of a cascading delete whose work another session's got in the way of. */
const DELETE_TRIES = 4;

export interface DeleteOptions {
  /** Run the cascade in its own transaction (default true). */
  transaction?: boolean;
  /** Ask before committing (default: the `safemode` setting, on a terminal). */
  prompt?: boolean;
  /** Part rows may be deleted only with their masters ('enforce', default), or regardless ('ignore'), or their masters are deleted too ('cascade'). */
  partIntegrity?: PartIntegrity;
}

/** What delete needs from the table it starts at. */
export type DeleteTarget = CascadeTarget;

class DeleteCancelled extends Error {}

/** Delete without cascading; returns the count. */
export async function deleteQuick(t: DeleteTarget): Promise<number> {
  const where = (await materializedCondition(t)).join(' AND ');
  return (await t.connection.execute(`DELETE FROM ${t.fullTableName} WHERE ${where}`)).affectedRows;
}

/** Delete with cascade; returns the number of rows deleted from the target table itself. */
export async function deleteCascade(t: DeleteTarget, opts: DeleteOptions = {}): Promise<number> {
  // Declared before the transaction begins (MySQL would commit it at the CREATE).
  await t.declare();
  const conn = t.connection;
  const partIntegrity = opts.partIntegrity ?? 'enforce';
  if (!['enforce', 'ignore', 'cascade'].includes(partIntegrity)) throw new DataJointError(`partIntegrity must be 'enforce', 'ignore' or 'cascade'`);
  const prompt = shouldPrompt(opts.prompt, `to delete from ${t.fullTableName}`);

  const run = async (): Promise<number> => {
    const plan = await planCascade(t, partIntegrity);
    if (prompt) {
      const counts = await countCascade(conn, plan);
      const lines = [...counts].filter(([, n]) => n).map(([name, n]) => `Deleting ${n} rows from ${name}`);
      if (!lines.length) {
        process.stdout.write('Nothing to delete.\n');
        return 0;
      }
      if (!(await confirm('Commit deletes?', lines))) throw new DeleteCancelled();
    }
    const deleted = await executeCascade(conn, plan);
    return deleted.get(plan.root.fullName) ?? 0;
  };
  try {
    if (opts.transaction === false) return await run();
    if (conn.inTransaction) return await conn.transaction(run);
    // Its own transaction, run again when another session's work got in its way: a deadlock
    // (rolled back whole), or a referencing row committed after the plan was made (a make
    // inserting a child of a row being deleted): a new plan includes it.
    return await retryWhen(() => conn.transaction(run), (err) => err instanceof DeadlockError || err instanceof ReferencedRowError, DELETE_TRIES - 1);
  } catch (err) {
    if (err instanceof DeleteCancelled) {
      process.stdout.write('Delete cancelled; nothing was deleted.\n');
      return 0;
    }
    throw err;
  }
}
