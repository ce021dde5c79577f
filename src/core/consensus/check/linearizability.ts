/**
 * Linearizability checking of key-value histories recorded by the Raft simulator.
 *
 * Linearizability is compositional (Herlihy & Wing): a history is linearizable iff each object's
 * sub-history is. Every op touches exactly one key, so each key is checked on its own, which
 * keeps the exponential part of the search confined to one key's (small) concurrency.
 */
import {kvModel, type KvInput, type KvOutput, type KvState} from './kv-model.js';
import {searchLinearization, type Budget, type SearchOp, type SearchOutcome} from './search.js';

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
  /**
   * Total search steps allowed across all keys (a step is one event visited or one cached state
   * compared; several million per second). Default {@link DEFAULT_MAX_STEPS}.
   */
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
    const unexplained = findUnwrittenObservation(ops);
    if (unexplained !== undefined) return {ok: false, key, explanation: unexplained};
    const outcome = searchKey(ops, budget);
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

/**
 * Cheap sound pre-check, run before the search so that the commonest bug (a read of a value
 * nobody wrote) is reported at once, with a precise message, however many pending ops would
 * make the search slow: a completed get that saw v, or a completed cas that swapped on
 * expected v, needs some put or cas writing v on that key.
 */
function findUnwrittenObservation(ops: SearchOp<KvInput, KvOutput>[]): string | undefined {
  const written = new Set<string>();
  for (const o of ops) if (o.input.op === 'put' || o.input.op === 'cas') written.add(o.input.value);
  for (const o of ops) {
    if (o.output === undefined) continue;
    let needed: string | null = null;
    if (o.input.op === 'get') needed = o.output.ok ? (o.output.value ?? null) : null;
    else if (o.input.op === 'cas' && o.output.ok) needed = o.input.expected;
    if (needed !== null && !written.has(needed)) {
      return (
        `client ${o.clientId}'s ${kvModel.describeOp(o.input, o.output)} [${o.call}, ${o.return}] ` +
        `observed ${JSON.stringify(needed)}, which no operation on key ${JSON.stringify(o.input.key)} writes`
      );
    }
  }
  return undefined;
}

/**
 * Two complete search orders with different strengths (see searchLinearization): event order
 * decides good histories with pending ops fast, pending-last refutes bad ones fast. With pending
 * ops, run the first on half the remaining budget and fall back to the second for the rest.
 */
function searchKey(ops: SearchOp<KvInput, KvOutput>[], budget: Budget): SearchOutcome<KvState> {
  if (!ops.some((o) => o.return === Infinity) || !Number.isFinite(budget.remaining)) {
    return searchLinearization(ops, kvModel, budget);
  }
  const share = Math.floor(budget.remaining / 2);
  const first: Budget = {remaining: share};
  const outcome = searchLinearization(ops, kvModel, first);
  budget.remaining -= share - Math.max(0, first.remaining);
  return outcome.kind === 'timeout' ? searchLinearization(ops, kvModel, budget, true) : outcome;
}

function validate(op: Operation, index: number): void {
  const where = `history[${index}]`;
  if (typeof op.input?.key !== 'string') throw new TypeError(`${where}: input.key must be a string`);
  if (!['get', 'put', 'del', 'cas'].includes(op.input.op)) {
    throw new TypeError(`${where}: unknown op ${JSON.stringify((op.input as {op: unknown}).op)}`);
  }
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
  }
}
