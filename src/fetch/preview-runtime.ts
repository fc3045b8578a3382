/**
 * The helper thread's side of the synchronous preview (preview-sync.ts): rebuild a described
 * expression over FreeTables on this thread's connection and render its preview.
 */
import '../codecs/builtin.js';
import { config, type ConfigValue } from '../config.js';
import { conn } from '../connection/connection.js';
import { FreeTable } from '../table/free-table.js';
import { Not } from '../expression/condition.js';
import { Top } from '../expression/top.js';
import { U } from '../expression/universal.js';
import type { AggrArg, JoinOptions, ProjArg, QueryExpression, RestrictOptions } from '../expression/expression.js';
import { preview } from './fetch.js';
import type { CondDesc, ExprDesc } from './preview-sync.js';

function rebuildCondition(c: CondDesc): unknown {
  switch (c.t) {
    case 'value':
      return c.v;
    case 'list':
      return c.items.map(rebuildCondition);
    case 'not':
      return new Not(rebuildCondition(c.c));
    case 'top':
      return new Top(c.limit, c.orderBy, c.offset);
    case 'u':
      return U(...c.attributes);
    case 'expr':
      return rebuild(c.e);
  }
}

function rebuild(d: ExprDesc): QueryExpression {
  let e: QueryExpression;
  if (d.kind === 'table') e = FreeTable.create(conn(), d.database, d.table);
  else {
    const ops = d.operands.map(rebuild);
    const p = d.params as never;
    switch (d.operator) {
      case 'join':
        e = ops[0]!.join(ops[1]!, p as JoinOptions);
        break;
      case 'extend':
        e = ops[0]!.extend(ops[1]!, p as RestrictOptions);
        break;
      case 'proj':
        e = ops[0]!.proj(...(p as ProjArg[]));
        break;
      case 'aggr':
        e = ops[0]!.aggr(ops[1]!, ...(p as AggrArg[]));
        break;
      case 'union':
        e = ops[0]!.union(ops[1]!);
        break;
      case 'U.restrict':
        e = U(...(p as { attributes: string[] }).attributes).restrict(ops[0]!);
        break;
      case 'U.aggr': {
        const { attributes, args } = p as { attributes: string[]; args: AggrArg[] };
        e = U(...attributes).aggr(ops[0]!, ...args);
        break;
      }
      default:
        throw new Error(`unknown operator ${d.operator}`);
    }
  }
  for (const r of d.restrictions) e = e.restrict(rebuildCondition(r.condition), { semanticCheck: r.semanticCheck });
  return e;
}

export async function runPreview(desc: ExprDesc, snapshot: Record<string, unknown>, options: { limit?: number; width?: number }): Promise<string> {
  for (const [k, v] of Object.entries(snapshot)) config.set(k, v as ConfigValue);
  return preview(rebuild(desc), options);
}
