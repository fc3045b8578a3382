/**
 * How DataJoint Python draws each tier (its `make_dot` label properties, with the 1.2 scale):
 * Manual green boxes, Lookup grey plain labels, Imported blue and Computed red ellipses, Part
 * small plain labels, and a renamed foreign key's alias node as a small orange dot. Edges: solid
 * for a foreign key inside the primary key, dashed outside it; thick when the key is the child's
 * whole primary key (one-to-one), thin when the child adds attributes (one-to-many); no arrowheads.
 * Mermaid uses Python's `make_mermaid` class definitions.
 */
import type { Tier } from './graph.js';

export interface NodeStyle {
  shape: 'box' | 'plaintext' | 'ellipse' | 'circle';
  /** Fill (Graphviz `color` with `style=filled`), RGBA hex. */
  color: string;
  fontcolor: string;
  fontsize: number;
  /** Width and height in inches (minimums unless `fixed`). */
  size: number;
  fixed: boolean;
}

const SCALE = 1.2;

export const TIER_STYLES: Record<Tier | 'alias' | 'unknown', NodeStyle> = {
  manual: { shape: 'box', color: '#00FF0030', fontcolor: 'darkgreen', fontsize: Math.round(SCALE * 10), size: 0.4 * SCALE, fixed: false },
  lookup: { shape: 'plaintext', color: '#00000020', fontcolor: 'black', fontsize: Math.round(SCALE * 8), size: 0.4 * SCALE, fixed: false },
  computed: { shape: 'ellipse', color: '#FF000020', fontcolor: '#7F0000A0', fontsize: Math.round(SCALE * 10), size: 0.4 * SCALE, fixed: false },
  imported: { shape: 'ellipse', color: '#00007F40', fontcolor: '#00007FA0', fontsize: Math.round(SCALE * 10), size: 0.4 * SCALE, fixed: false },
  part: { shape: 'plaintext', color: '#00000000', fontcolor: 'black', fontsize: Math.round(SCALE * 8), size: 0.1 * SCALE, fixed: false },
  alias: { shape: 'circle', color: '#FF880080', fontcolor: '#FF880080', fontsize: 0, size: 0.05 * SCALE, fixed: true },
  // A table whose name DataJoint would not have made (Python's `None` tier).
  unknown: { shape: 'circle', color: '#FFFF0040', fontcolor: 'yellow', fontsize: Math.round(SCALE * 8), size: 0.4 * SCALE, fixed: false },
};

export const FONT_NAME = 'arial';

export function nodeStyle(kind: 'table' | 'alias', tier: Tier | null): NodeStyle {
  return kind === 'alias' ? TIER_STYLES.alias : TIER_STYLES[tier ?? 'unknown'];
}

export interface EdgeStyle {
  color: string;
  style: 'solid' | 'dashed';
  penwidth: number;
  weight: number;
  arrowhead: 'none';
}

export function edgeStyle(e: { primary: boolean; multi: boolean; masterPart: boolean }): EdgeStyle {
  return {
    color: '#00000040',
    style: e.primary ? 'solid' : 'dashed',
    penwidth: e.multi ? 0.75 : 2,
    // Master → part edges pull harder, keeping parts next to their masters.
    weight: e.masterPart ? 3 : 1,
    arrowhead: 'none',
  };
}

/** Dashed grey frame around each schema, labelled with its name. */
export const SCHEMA_CLUSTER = { style: 'dashed', color: 'gray', fontcolor: 'gray' } as const;

/** Quiet shaded background around a master and its parts. */
export const ENTITY_CLUSTER = { style: 'rounded,filled', fillcolor: '#F3F5F8', color: '#F3F5F8' } as const;

export const MERMAID_CLASSES: Record<Tier, string> = {
  manual: 'fill:#90EE90,stroke:#006400',
  lookup: 'fill:#D3D3D3,stroke:#696969',
  computed: 'fill:#FFB6C1,stroke:#8B0000',
  imported: 'fill:#ADD8E6,stroke:#00008B',
  part: 'fill:#FFFFFF,stroke:#000000',
};

/** Mermaid shape brackets: boxes for Manual/Lookup/Part, stadiums for Computed/Imported. */
export function mermaidShape(tier: Tier | null): [string, string] {
  if (tier === 'computed' || tier === 'imported') return ['([', '])'];
  if (tier === null) return ['((', '))'];
  return ['[', ']'];
}

/** Colour of a renamed foreign key in Mermaid (which has no alias dots). */
export const MERMAID_RENAMED_LINK = 'stroke:#FF8800';
