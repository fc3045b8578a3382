/**
 * The error classes as DataJoint Python's reference arranges them (docs: reference/errors.md):
 * every one a DataJointError, the server's refusals of a query or a change under QueryError.
 */
import { describe, expect, it } from 'vitest';
import * as dj from '../../src/index.js';

describe('the error hierarchy', () => {
  it('puts the query errors under QueryError, as DataJoint Python does', () => {
    const { QueryError } = dj.errors;
    for (const cls of [dj.errors.QuerySyntaxError, dj.errors.AccessError, dj.errors.DuplicateError, dj.errors.IntegrityError, dj.errors.UnknownAttributeError, dj.errors.MissingAttributeError, dj.errors.ReferencedRowError, dj.errors.TableChangedError]) {
      const e = new cls('x');
      expect(e, cls.name).toBeInstanceOf(QueryError);
      expect(e, cls.name).toBeInstanceOf(dj.DataJointError);
      expect(e.name).toBe(cls.name);
    }
    for (const cls of [dj.errors.LostConnectionError, dj.errors.MissingTableError, dj.errors.MissingExternalFile, dj.errors.BucketInaccessible, dj.errors.DeclarationError]) {
      expect(new cls('x'), cls.name).not.toBeInstanceOf(QueryError);
      expect(new cls('x'), cls.name).toBeInstanceOf(dj.DataJointError);
    }
    expect(dj.QueryError).toBe(QueryError);
  });
});
