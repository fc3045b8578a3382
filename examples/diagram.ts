/**
 * Draw a two-schema pipeline with every tier, parts, a renamed foreign key and a secondary one,
 * and write docs/diagram-example.png (and .mmd) — no system Graphviz needed.
 *   npx tsx examples/diagram.ts     (uses DJ_HOST/DJ_USER/DJ_PASS or datajoint.json; default 127.0.0.1)
 * The example schemas are dropped afterwards.
 */
import { fileURLToPath } from 'node:url';
import * as dj from '../src/index.js';
import { Diagram } from '../src/diagram/diagram.js';

if (!dj.config.isSet('database.host')) dj.config.set('database.host', '127.0.0.1');

const prefix = process.env.DJ_DEMO_SCHEMA ?? 'dj_diagram_demo';
const lab = dj.schema(`${prefix}_lab`);

class Species extends dj.Lookup {
  static definition = `
  species : varchar(32)
  `;
  static contents = [['mouse'], ['rat']];
}
class Experimenter extends dj.Manual {
  static definition = `
  experimenter : varchar(32)
  `;
}
class Subject extends dj.Manual {
  static definition = `
  subject_id : int32
  ---
  -> Species
  dob = null : date
  `;
}
class Session extends dj.Manual {
  static definition = `
  -> Subject
  session_idx : uint16
  ---
  -> Experimenter
  -> [nullable] Experimenter.proj(supervisor='experimenter')
  session_date : date
  `;
  static Trial = class extends dj.Part {
    static definition = `
    -> master
    trial_idx : uint16
    ---
    outcome : enum('hit', 'miss')
    `;
  };
}
class Recording extends dj.Imported {
  static definition = `
  -> Session
  ---
  path : varchar(255)
  `;
  static Channel = class extends dj.Part {
    static definition = `
    -> master
    channel : uint16
    `;
  };
}
class FilterParams extends dj.Lookup {
  static definition = `
  filter_id : uint8
  ---
  cutoff_hz : float64
  `;
  static contents = [[0, 300.0]];
}
class Filtered extends dj.Computed {
  static definition = `
  -> Recording
  -> FilterParams
  `;
  static Channel = class extends dj.Part {
    static definition = `
    -> master
    -> Recording.Channel
    ---
    noise : float64
    `;
  };
}
for (const c of [Species, Experimenter, Subject, Session, Recording, FilterParams, Filtered]) lab.add(c);

const behavior = dj.schema(`${prefix}_behavior`, { context: { lab: { Session } } });
class TrialScore extends dj.Computed {
  static definition = `
  -> lab.Session.Trial
  ---
  score : float64
  `;
}
class SessionSummary extends dj.Computed {
  static definition = `
  -> lab.Session
  ---
  hit_rate : float64
  `;
}
behavior.add(TrialScore);
behavior.add(SessionSummary);

try {
  await behavior.drop({ prompt: false });
  await lab.drop({ prompt: false });
  await lab.declare();
  await behavior.declare();
  const diagram = new Diagram(lab).add(behavior);
  const out = fileURLToPath(new URL('../docs/diagram-example', import.meta.url));
  for (const ext of ['png', 'mmd']) await diagram.save(`${out}.${ext}`);
  console.log(`wrote ${out}.png and .mmd`);
} finally {
  await behavior.drop({ prompt: false });
  await lab.drop({ prompt: false });
  await dj.closeAll();
}
