/**
 * Table names from class names, derived as DataJoint Python derives them (utils.from_camel_case,
 * to_camel_case and the tiers' tier_regexp), so one class finds one table from either language.
 * Expected values follow Python's regular expressions (no Python runtime here: read from its
 * sources, re.sub(r"(\B[A-Z])|(\b[A-Z])", ...) and re.sub(r"(^|[_\W])+[a-zA-Z]", ...)).
 */
import { describe, expect, it } from 'vitest';
import { parseTableName, toCamelCase, toSnakeCase } from '../../src/table/names.js';
import { masterOf } from '../../src/table/graph.js';

describe('class name → table name (Python from_camel_case)', () => {
  it.each([
    ['Subject', 'subject'],
    ['SessionTrial', 'session_trial'],
    ['IJ', 'i_j'],
    ['ProcessedEMG', 'processed_e_m_g'],
    ['Table2A', 'table2_a'],
    ['A1', 'a1'],
    ['ABC', 'a_b_c'],
    ['Scan3D', 'scan3_d'],
  ])('%s → %s', (cls, table) => {
    expect(toSnakeCase(cls)).toBe(table);
  });

  it('refuses names that are not CamelCase', () => {
    for (const bad of ['bad_name', 'lower', '_X', 'A_B', 'A-B', '']) expect(() => toSnakeCase(bad)).toThrow(/CamelCase/);
  });
});

describe('table name → class name (Python to_camel_case)', () => {
  it.each([
    ['subject', 'Subject'],
    ['session_trial', 'SessionTrial'],
    ['i_j', 'IJ'],
    ['processed_e_m_g', 'ProcessedEMG'],
    ['table2_a', 'Table2A'],
  ])('%s → %s', (table, cls) => {
    expect(toCamelCase(table)).toBe(cls);
    // Round trip: the class name derived back gives the same table.
    expect(toSnakeCase(toCamelCase(table))).toBe(table);
  });

  it('parses tiers and parts as the tiers’ regular expressions do', () => {
    expect(parseTableName('#method')).toEqual({ tier: 'lookup', master: null, className: 'Method' });
    expect(parseTableName('_raw_e_m_g')).toEqual({ tier: 'imported', master: null, className: 'RawEMG' });
    expect(parseTableName('__analysis')).toEqual({ tier: 'computed', master: null, className: 'Analysis' });
    expect(parseTableName('session__trial')).toEqual({ tier: 'part', master: 'session', className: 'Trial' });
    expect(parseTableName('__processed_e_m_g__i_j')).toEqual({ tier: 'part', master: '__processed_e_m_g', className: 'IJ' });
    expect(parseTableName('#m__p')).toEqual({ tier: 'part', master: '#m', className: 'P' });
    // Not DataJoint table names: hidden tables, a leading digit, a double underscore in a word.
    for (const n of ['~lineage', '~~jobs', '1abc', 'a___b', 'Upper', 'a__b__c']) expect(parseTableName(n)).toBeNull();
  });

  it('finds the master of a part table name', () => {
    expect(masterOf({ database: 'db', name: '__processed_e_m_g__i_j' })).toEqual({ database: 'db', name: '__processed_e_m_g' });
    expect(masterOf({ database: 'db', name: '__analysis' })).toBeNull();
    expect(masterOf({ database: 'db', name: 'i_j' })).toBeNull();
  });
});
