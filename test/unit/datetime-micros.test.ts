/**
 * datetime(6) values keep their microseconds through a fetch: the driver's text becomes a
 * dj.blob.DateTime (a Date with the 0-999 µs a Date cannot hold) and goes back into SQL, into
 * PostgreSQL parameters and into DataJoint Python's isoformat text with all six digits.
 */
import { describe, expect, test } from 'vitest';
import { decoderFor } from '../../src/fetch/convert.js';
import { utcDatetimeText } from '../../src/connection/datetime.js';
import { pgDatetimeText } from '../../src/adapters/postgres/timestamps.js';
import { pythonIsoformat } from '../../src/stores/python-text.js';
import { DateTime } from '../../src/blob/time.js';
import { keysForThread, keysFromThread } from '../../src/populate/transfer.js';
import type { Attribute } from '../../src/heading/heading.js';

const decode = decoderFor({ name: 't', type: 'datetime(6)', kind: 'datetime' } as Attribute)!;

describe('datetime(6) text', () => {
  test('decodes to a DateTime only when there is more than milliseconds', () => {
    const d = decode('2024-05-01 09:00:00.123456') as DateTime;
    expect(d).toBeInstanceOf(DateTime);
    expect(d).toBeInstanceOf(Date);
    expect(d.toISOString()).toBe('2024-05-01T09:00:00.123Z');
    expect(d.microsecond).toBe(123456);
    expect((decode('2024-05-01 09:00:00.1234') as DateTime).microsecond).toBe(123400);
    for (const plain of ['2024-05-01 09:00:00.123000', '2024-05-01 09:00:00.5', '2024-05-01 09:00:00', '2024-05-01']) {
      const p = decode(plain) as Date;
      expect(p.constructor).toBe(Date);
    }
  });
  test('encodes with six digits when it carries microseconds, three otherwise', () => {
    const d = decode('2024-05-01 09:00:00.000456') as Date;
    expect(utcDatetimeText(d)).toBe('2024-05-01 09:00:00.000456');
    expect(pgDatetimeText(d)).toBe('2024-05-01 09:00:00.000456');
    expect(pythonIsoformat(d)).toBe('2024-05-01T09:00:00.000456+00:00');
    const ms = new Date(Date.UTC(2024, 4, 1, 9, 0, 0, 120));
    expect(utcDatetimeText(ms)).toBe('2024-05-01 09:00:00.120');
    expect(pythonIsoformat(ms)).toBe('2024-05-01T09:00:00.120000+00:00');
  });
  test('keys carrying microseconds cross to a worker thread and back whole', () => {
    const keys = [{ id: 1, t: decode('2024-05-01 09:00:00.123456') }, { id: 2, t: new Date(0) }];
    const sent = structuredClone(keysForThread(keys));
    const back = keysFromThread(sent);
    expect((back[0]!.t as DateTime).microsecond).toBe(123456);
    expect(back[1]!.t).toEqual(new Date(0));
    const plain = [{ id: 3, t: new Date(5) }];
    expect(keysForThread(plain)).toBe(plain); // nothing to tag: sent as they are
  });
});

describe("three-part make's change check", () => {
  test('tells datetime(6) values apart by their microseconds', async () => {
    const { stableHash } = await import('../../src/populate/hash.js');
    const a = { t: decode('2024-05-01 09:00:00.123456') };
    const b = { t: decode('2024-05-01 09:00:00.123457') };
    expect(stableHash(a)).not.toBe(stableHash(b));
    expect(stableHash(a)).toBe(stableHash({ t: decode('2024-05-01 09:00:00.123456') }));
    expect(stableHash({ t: new Date(5) })).toBe(stableHash({ t: new Date(5) }));
  });
});

describe('datetime(6) text with a zone', () => {
  test('keeps the microseconds beyond the millisecond, whatever the offset', async () => {
    const { encodeScalar } = await import('../../src/fetch/convert.js');
    const a = { name: 't', type: 'datetime(6)', kind: 'datetime', core: true } as Attribute;
    expect(encodeScalar(a, '2024-01-01T00:00:00.123456Z')).toBe('2024-01-01 00:00:00.123456');
    expect(encodeScalar(a, '2024-01-01T02:30:00.123456+02:30')).toBe('2024-01-01 00:00:00.123456');
    expect(encodeScalar(a, '2024-01-01T00:00:00.1234-01:00')).toBe('2024-01-01 01:00:00.123400');
    expect(encodeScalar(a, '2024-01-01T00:00:00.123Z')).toBe('2024-01-01 00:00:00.123');
    expect(encodeScalar({ ...a, type: 'datetime(3)' }, '2024-01-01T00:00:00.123456Z')).toBe('2024-01-01 00:00:00.123');
  });
});
