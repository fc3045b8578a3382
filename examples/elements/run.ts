/**
 * Run the Elements example end to end:
 *   npx tsx examples/elements/run.ts      (DJ_HOST etc. as usual; DJ_ELEMENTS_PREFIX to rename)
 * Importing the pipeline activates both Elements. This script enters subjects and sessions,
 * queues analyses, populates them on two worker threads, shows what deleting a subject would
 * remove (dj.Diagram.cascade), and writes the pipeline's diagram to examples/out/elements.svg.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as dj from '../../src/index.js';
import { schemas, Subject, Session, SessionNote, AnalysisParamSet, AnalysisTask, Analysis } from './pipeline.js';

async function main() {
  await Subject.insert([{ subject: 'mouse1' }, { subject: 'mouse2', species: 'rat' }], { skipDuplicates: true });
  await Session.insert(
    [
      { subject: 'mouse1', session_datetime: '2024-06-01 10:00:00' },
      { subject: 'mouse1', session_datetime: '2024-06-02 10:00:00' },
      { subject: 'mouse2', session_datetime: '2024-06-01 14:00:00' },
    ],
    { skipDuplicates: true },
  );
  await SessionNote.insert1({ subject: 'mouse2', session_datetime: '2024-06-01 14:00:00', note: 'short session' }, { skipDuplicates: true });
  await AnalysisTask.insert(Session.proj().join(AnalysisParamSet.proj()), { skipDuplicates: true });

  console.log('populate on 2 worker threads:', await Analysis.populate({ processes: 2, displayProgress: false }));
  console.table(await Analysis.proj('n_samples', 'peak').toDicts({ orderBy: 'KEY' }));

  const cascade = dj.Diagram.cascade(Subject.restrict({ subject: 'mouse1' }));
  console.log('\ndeleting mouse1 would remove:', await cascade.counts());

  const out = fileURLToPath(new URL('../out/', import.meta.url));
  mkdirSync(out, { recursive: true });
  let diagram = new dj.Diagram(schemas[0]!);
  for (const s of schemas.slice(1)) diagram = diagram.add(s);
  await diagram.save(`${out}elements.svg`);
  console.log(`\nwrote ${out}elements.svg`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => dj.closeAll());
