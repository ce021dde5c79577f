/**
 * Linearizability checking of key-value histories recorded by the Raft simulator.
 *
 * Linearizability is compositional (Herlihy & Wing): a history is linearizable iff each object's
 * sub-history is. Every op touches exactly one key, so each key is checked on its own, which
 * keeps the exponential part of the search confined to one key's (small) concurrency.
 */
import {kvModel, type KvInput, type KvOutput} from './kv-model.js';
import {searchLinearization, type Budget, type SearchOp} from './search.js';

export type {KvInput, KvOutput} from './kv-model.js';

export interface Operation {
  clientId: number;
  input: KvInput;
  /** Invocation time (virtual time; must be finite). */
  call: number;
  /**
   * Response time (>= call). Infinity = the op never returned (client timed out or crashed):
   * it may or may not have taken effect, and `output` is ignored.
   */
  return: number;
  /** Required when the op returned. */
  output?: KvOutput;
}

export interface CheckResult {
  ok: boolean;
  /** On failure: the key whose sub-history is not linearizable (or could not be decided). */
  key?: string;
  /** On failure: a short human explanation. */
  explanation?: string;
  /** True if the search hit its step budget before deciding (then `ok` is false). */
  timedOut?: boolean;
}

export interface CheckOptions {
  /** Total search steps allowed across all keys. Default {@link DEFAULT_MAX_STEPS}. */
  maxSteps?: number;
}

export const DEFAULT_MAX_STEPS = 2_000_000;

/**
 * Decides whether `history` is linearizable with respect to a sequential KV store in which each
 * key holds a string or nothing (see `kvModel`), honouring real-time order: an op whose return
 * is strictly before another's call must be linearized before it. Ops whose intervals touch
 * (return === other's call) are treated as concurrent, so ties never cause a false alarm.
 *
 * Ops that never returned (`return: Infinity`) may be linearized at any point after their call,
 * or left out: the history passes if some subset of them can be included.
 *
 * Keys are checked in order of first appearance and the check stops at the first key that is
 * not linearizable: `{ok: false, key, explanation}`.
 *
 * The search is exponential in the worst case, so it is bounded by `maxSteps` (shared by all
 * keys). When the budget runs out the answer is unknown, and the result is
 * `{ok: false, timedOut: true, key, explanation}`; it is deliberately not `ok: true`, so a
 * caller that only looks at `ok` never mistakes "undecided" for "correct". Callers that want to
 * tolerate undecided checks must test `timedOut` explicitly.
 *
 * Memory grows with the number of distinct search states visited (at most one cache entry per
 * step). Pure and deterministic: same history, same result.
 *
 * @throws TypeError / RangeError on a malformed history (bad times, missing or ill-shaped
 * output on a completed op) or a negative / NaN `maxSteps`: those are recording bugs, not
 * linearizability verdicts.
 */
export function checkKvHistory(history: Operation[], options: CheckOptions = {}): CheckResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!(maxSteps >= 0)) throw new RangeError(`maxSteps must be >= 0, got ${maxSteps}`);

  const byKey = new Map<string, SearchOp<KvInput, KvOutput>[]>();
  history.forEach((op, index) => {
    validate(op, index);
    const pending = op.return === Infinity;
    // A get that never returned neither changes state nor constrains anything: dropping it
    // up front spares the search from trying it at every position.
    if (pending && op.input.op === 'get') return;
    let ops = byKey.get(op.input.key);
    if (ops === undefined) byKey.set(op.input.key, (ops = []));
    ops.push({
      clientId: op.clientId,
      input: op.input,
      call: op.call,
      return: op.return,
      output: pending ? undefined : op.output,
    });
  });

  const budget: Budget = {remaining: maxSteps};
  for (const [key, ops] of byKey) {
    const outcome = searchLinearization(ops, kvModel, budget);
    if (outcome.kind === 'ok') continue;
    if (outcome.kind === 'timeout') {
      return {
        ok: false,
        timedOut: true,
        key,
        explanation:
          `search budget exhausted (${maxSteps} steps) while checking key ${JSON.stringify(key)} ` +
          `(${ops.length} ops): linearizability undecided`,
      };
    }
    const b = ops[outcome.blocker]!;
    const completedCount = ops.filter((o) => o.return !== Infinity).length;
    return {
      ok: false,
      key,
      explanation:
        `no linearization of key ${JSON.stringify(key)} exists (${completedCount} completed ops): ` +
        `at best ${outcome.bestDepth} ops could be ordered, then client ${b.clientId}'s ` +
        `${kvModel.describeOp(b.input, b.output)} [${b.call}, ${b.return}] returned before it ` +
        `could take effect (value there: ${kvModel.describeState(outcome.stateAtBlock)})`,
    };
  }
  return {ok: true};
}

function validate(op: Operation, index: number): void {
  const where = `history[${index}]`;
  if (typeof op.input?.key !== 'string') throw new TypeError(`${where}: input.key must be a string`);
  if (!Number.isFinite(op.call)) throw new RangeError(`${where}: call must be finite, got ${op.call}`);
  if (!(op.return >= op.call)) {
    throw new RangeError(`${where}: return (${op.return}) must be >= call (${op.call})`);
  }
  if (op.return === Infinity) return;
  const out = op.output;
  if (out === undefined) throw new TypeError(`${where}: a completed op (finite return) needs an output`);
  switch (op.input.op) {
    case 'get':
      if (!out.ok || (typeof out.value !== 'string' && out.value !== null)) {
        throw new TypeError(`${where}: a completed get needs output {ok: true, value: string | null}`);
      }
      return;
    case 'put':
    case 'del':
      // Only cas reports ok: false; a put/del known to have failed should not be recorded,
      // and one whose fate is unknown should be recorded with return = Infinity.
      if (!out.ok) throw new TypeError(`${where}: a completed ${op.input.op} needs output {ok: true}`);
      return;
    case 'cas':
      if (typeof out.ok !== 'boolean') throw new TypeError(`${where}: cas output needs a boolean ok`);
      return;
    default:
      throw new TypeError(`${where}: unknown op ${JSON.stringify((op.input as {op: unknown}).op)}`);
  }
}
