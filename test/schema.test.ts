import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dj, freshSchema, cleanup } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let schema: dj.SchemaDecorator;

class Rig extends dj.Lookup {
  static definition = `rig : varchar(8)`;
  static contents = [['r1'], ['r2']];
}
class Recording extends dj.Manual {
  static definition = `
  -> Rig
  rec_id : int32
  ---
  duration : float64
  `;
  static Channel = class extends dj.Part {
    static definition = `
    -> master
    channel : uint16
    ---
    gain = 1.0 : float32
    `;
  };
}
class Summary extends dj.Computed {
  static definition = `
  -> Recording
  ---
  mean : float64
  `;
}

beforeAll(async () => {
  schema = await freshSchema('schema');
  schema.add(Rig);
  schema.add(Recording);
  schema.add(Summary);
  await schema.declare();
  await Recording.insert1({ rig: 'r1', rec_id: 1, duration: 2.5 });
  await Recording.Channel.insert([{ rig: 'r1', rec_id: 1, channel: 0 }, { rig: 'r1', rec_id: 1, channel: 1, gain: 2 }]);
});
afterAll(() => cleanup(schema));

describe('schema objects', () => {
  it('gets tables by SQL or class name as FreeTables', async () => {
    const byName = await schema.getTable('recording__channel');
    expect(await byName.count()).toBe(2);
    const byClass = await schema.getTable('Recording.Channel');
    expect(byClass.tableName).toBe('recording__channel');
    expect(await (await schema.getTable('Rig')).count()).toBe(2);
    await expect(schema.getTable('Nope')).rejects.toBeInstanceOf(dj.MissingTableError);
    expect(await byName.describe()).toContain('-> master');
  });

  it('builds virtual schemas with parts and working tables', async () => {
    const lab = await dj.virtualSchema(schema.database);
    expect(Object.keys(lab).sort()).toEqual(['Recording', 'Rig', 'Summary']);
    const Channel = (lab.Recording as unknown as Record<string, typeof dj.Part>).Channel!;
    expect(await Channel.count()).toBe(2);
    expect(Channel.tableName).toBe('recording__channel');
    expect(lab.Summary!.tableName).toBe('__summary');
    await lab.Rig!.insert1(['r3']);
    expect(await Rig.count()).toBe(3);
    await expect(dj.virtualSchema('djtest_no_such_schema')).rejects.toThrow(/does not exist/);
  });

  it('says a table of a virtual schema dropped since is missing (MissingTableError), not a class without a definition', async () => {
    const s = await freshSchema('vanished');
    class Gone extends dj.Manual {
      static definition = 'gone_id : int32';
    }
    s.add(Gone);
    await Gone.insert1({ gone_id: 1 });
    const vs = await dj.virtualSchema(s.database);
    await dj.conn().execute(`DROP TABLE ${dj.conn().dialect.fullName(s.database, 'gone')}`);
    const err = await vs.Gone!.toDicts().then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(dj.errors.MissingTableError);
    expect(err!.message).toMatch(/Table Gone \(.*gone.*\) does not exist/);
    await cleanup(s);
  });

  it('refuses a part nested in a part, before creating anything (the master-part spec)', async () => {
    const s = await freshSchema('nestedpart');
    class Rec extends dj.Manual {
      static definition = 'rec_id : int32';
      static Unit = class extends dj.Part {
        static definition = '-> master\nunit_id : int32';
        static Spike = class extends dj.Part {
          static definition = '-> master\nspike_id : int32';
        };
      };
    }
    s.add(Rec);
    await expect(Rec.declare()).rejects.toThrow(/Part tables cannot have parts of their own: Rec\.Unit\.Spike/);
    await expect(Rec.declare()).rejects.toBeInstanceOf(dj.DeclarationError);
    expect(await s.listTables()).toEqual([]);
    await cleanup(s);
  });

  it('refuses direct inserts into auto-populated tables unless allowed', async () => {
    await expect(Summary.insert1({ rig: 'r1', rec_id: 1, mean: 0 })).rejects.toThrow(/Direct insert into auto-populated table/);
    await Summary.insert1({ rig: 'r1', rec_id: 1, mean: 0 }, { allowDirectInsert: true });
    expect(await Summary.count()).toBe(1);
  });

  it('keeps hidden job-metadata attributes out of fetches', async () => {
    const s = await freshSchema('hidden', { context: { Recording } });
    class Calc extends dj.Computed {
      static definition = `-> Recording\n---\nv : float64`;
    }
    s.add(Calc);
    await dj.config.override({ 'jobs.add_job_metadata': true }, () => Calc.declare());
    const h = await Calc.heading();
    expect(h.all.map((a) => a.name)).toEqual(['rig', 'rec_id', 'v', '_job_start_time', '_job_duration', '_job_version']);
    expect(h.names).toEqual(['rig', 'rec_id', 'v']);
    await Calc.insert1({ rig: 'r1', rec_id: 1, v: 1 }, { allowDirectInsert: true });
    expect(await Calc.toDicts()).toEqual([{ rig: 'r1', rec_id: 1, v: 1 }]);
    await s.drop({ prompt: false });
  });

  it('registers classes with the @schema decorator (TS 5 decorators, via tsx)', async () => {
    const db = `djtest_decor_${process.pid}`;
    try {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/decorated.ts', db], { cwd: root, encoding: 'utf8' });
      const result = JSON.parse(out.trim().split('\n').pop()!);
      expect(result.tables.sort()).toEqual(['animal', 'visit', 'visit__note']);
      expect(result.notes).toEqual([{ animal_id: 1, visit: 1, note_idx: 0, text: 'ok' }]);
    } finally {
      await dj.conn().executeAll(dj.conn().dialect.dropDatabase(db));
    }
  });

  it('rebuilds lineage from foreign keys', async () => {
    await dj.conn().execute(`DELETE FROM ${dj.conn().dialect.fullName(schema.database, '~lineage')}`);
    schema.invalidate();
    expect((await Recording.Channel.heading()).attributes.rig!.lineage).toBeNull();
    await schema.rebuildLineage();
    expect((await Recording.Channel.heading()).attributes.rig!.lineage).toBe(`${schema.database}.#rig.rig`);
    expect((await Recording.Channel.heading()).attributes.channel!.lineage).toBe(`${schema.database}.recording__channel.channel`);
  });
});

describe('command line', () => {
  it('prints the version and evaluates with virtual schemas', () => {
    const cli = ['--import', 'tsx', 'src/cli/main.ts'];
    const version = execFileSync(process.execPath, [...cli, '--version'], { cwd: root, encoding: 'utf8' }).trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    // This backend's server, given as the flags name it (the embedded backend takes none).
    const { DJ_HOST: host, DJ_PORT: port, DJ_USER: user = '', DJ_PASS: pass = '' } = process.env;
    const server = host ? ['--host', port ? `${host}:${port}` : host, '-u', user, '-p', pass] : [];
    const out = execFileSync(process.execPath, [...cli, ...server, '-s', `${schema.database}:lab`, '-e', 'lab.Recording.Channel.count()'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('2');
  });
});
