/** Table tiers of hand-entered data (spec: table-declaration §1.2): Manual, Lookup, Part. */
import { Table } from './table.js';
import type { TierName } from './names.js';

/** Data entered by hand or by external scripts. */
export class Manual extends Table {
  static override tier: TierName = 'manual';
}

/** Small reference tables whose `contents` are inserted at declaration. */
export class Lookup extends Table {
  static override tier: TierName = 'lookup';
}

/** Detail rows of a master; declared as a static property of the master class. */
export class Part extends Table {
  static override tier: TierName = 'part';
}

export type { TableClass } from './table.js';
