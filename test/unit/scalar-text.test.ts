/** Values as insert and errors take them: number text for numeric attributes (taken for integers and floats alike), and what was thrown when it is no Error. */
import { describe, it, expect } from 'vitest';
import { encodeScalar } from '../../src/fetch/convert.js';
import { AttributeTypeError } from '../../src/errors.js';
import type { Attribute } from '../../src/heading/heading.js';

const attr = (type: string, kind: string) => ({ name: 'x', type, kind, nullable: false }) as unknown as Attribute;
const float = attr('double', 'float');
const int = attr('int', 'int');

describe('number text on insert', () => {
  it('is taken for floats as it is for integers', () => {
    expect(encodeScalar(int, ' 42 ')).toBe(42);
    expect(encodeScalar(float, '42')).toBe(42);
    expect(encodeScalar(float, '-2.5')).toBe(-2.5);
    expect(encodeScalar(float, ' .5 ')).toBe(0.5);
    expect(encodeScalar(float, '1e-3')).toBe(0.001);
    expect(encodeScalar(float, '+3.')).toBe(3);
  });

  it('is refused when it is no decimal number', () => {
    for (const text of ['', ' ', 'NaN', 'Infinity', '0x10', '1,5', '2.5.1', 'e3', 'abc']) {
      expect(() => encodeScalar(float, text), text).toThrow(AttributeTypeError);
    }
    expect(() => encodeScalar(int, '2.5')).toThrow(AttributeTypeError);
  });
});

describe('toError', () => {
  it('says what was thrown when it is no Error', async () => {
    const { toError, DataJointError } = await import('../../src/errors.js');
    expect(toError(undefined).message).toBe('undefined was thrown, not an Error');
    expect(toError(null).message).toBe('null was thrown, not an Error');
    expect(toError('boom').message).toBe("a string was thrown, not an Error: 'boom'");
    expect(toError([1]).message).toBe('an array was thrown, not an Error: [ 1 ]');
    expect(toError(undefined)).toBeInstanceOf(DataJointError);
    const e = new RangeError('r');
    expect(toError(e)).toBe(e);
  });
});
