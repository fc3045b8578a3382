/**
 * A small pipeline end to end: declare tables with parts and a lookup, insert, query,
 * cascade-delete, and show the definitions as DataJoint reads them back.
 *   npm run demo:quickstart (uses DJ_HOST/DJ_USER/DJ_PASS or datajoint.json; nothing set: the embedded server)
 */
import * as dj from '../src/index.js';


const schema = dj.schema(process.env.DJ_DEMO_SCHEMA ?? 'dj_quickstart');

class Subject extends dj.Manual {
  static definition = `
  # experimental subject
  subject_id : int32
  ---
  species = 'mouse' : varchar(32)
  dob = null : date
  `;
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : uint16
  ---
  session_date : date
  `;
  static Trial = class extends dj.Part {
    static definition = `
    -> master
    trial_idx : uint16
    ---
    outcome : enum('hit','miss')
    trace = null : <blob>
    `;
  };
}
class Method extends dj.Lookup {
  static definition = `
  method_id : uint8
  ---
  name : varchar(16)
  `;
  static contents = [[0, 'gauss'], [1, 'median']];
}
schema.add(Subject);
schema.add(Session);
schema.add(Method);

async function main() {
  await schema.drop({ prompt: false });
  await schema.declare();
  console.log('tables:', (await schema.listTables()).join(', '));

  await Subject.insert([
    { subject_id: 1, dob: '2024-01-15' },
    { subject_id: 2, species: 'rat' },
  ]);
  await Session.insert([
    [1, 1, '2024-06-01'],
    [1, 2, '2024-06-02'],
    [2, 1, '2024-06-03'],
  ]);
  const trials = [];
  for (const [subject_id, session_idx] of [[1, 1], [1, 2], [2, 1]] as const)
    for (let trial_idx = 1; trial_idx <= 5; trial_idx++)
      trials.push({
        subject_id, session_idx, trial_idx,
        outcome: trial_idx % 2 ? 'hit' : 'miss',
        trace: new dj.NDArray({ dtype: 'float64', shape: [4], data: Float64Array.from({ length: 4 }, (_, i) => Math.sin(trial_idx + i)), order: 'F' }),
      });
  await Session.Trial.insert(trials);

  console.log('subjects:', await Subject.toDicts());
  console.log('methods:', await Method.toDicts());
  console.log('hit trials of subject 1:', await Session.Trial.restrict({ subject_id: 1, outcome: 'hit' }).count());
  const trace = (await Session.Trial.restrict({ subject_id: 1, session_idx: 1, trial_idx: 1 }).fetch1('trace')) as dj.NDArray;
  console.log('a trace read back from its blob:', Array.from(trace.data as Float64Array).map((x) => x.toFixed(3)).join(' '));
  console.log('sessions with trials:', await Session.restrict(Session.Trial).count());

  console.log('\nSession definition as read back:\n' + (await Session.describe()));
  const n = await Subject.restrict({ subject_id: 1 }).delete({ prompt: false });
  console.log(`deleted ${n} subject; cascaded: sessions left ${await Session.count()}, trials left ${await Session.Trial.count()}`);
  await schema.drop({ prompt: false });
  await dj.closeAll();
}

main().catch(async (err) => {
  console.error(err);
  await dj.closeAll();
  process.exit(1);
});
