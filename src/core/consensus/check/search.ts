/**
 * Model-agnostic single-history linearizability search: Wing & Gong's backtracking algorithm
 * with Lowe's memoization, in the shape Porcupine uses.
 *
 * Events (each op's call and, if it returned, its return) sit in a doubly linked list sorted by
 * time. Walking it from the head: at a call, try to linearize that op now (the model accepts it
 * and the (linearized-set, state) pair is new); if so, remove ("lift") its call and return from
 * the list, push it, and restart from the head. At a return, the op it belongs to was not
 * linearized before its response, so the latest choice was wrong: pop it, put its events back,
 * and try the next candidate after it. Reaching the end of the list means every completed op
 * is linearized (a completed op's return would otherwise have stopped the walk); what remains
 * are calls of ops that never returned, which may legitimately never take effect.
 *
 * Ops that never returned have no return event, so nothing forces them in, and the memo cache
 * prunes a state when one with the same completed ops, the same model state and a subset of the
 * pending ops was seen before (details at the cache).
 */
import {Bitset} from './bitset.js';
import type {SequentialModel} from './kv-model.js';

/** One op of a single-key history, as the search sees it. */
export interface SearchOp<I, O> {
  clientId: number;
  input: I;
  call: number;
  /** Infinity = never returned: may be linearized anywhere after `call`, or not at all. */
  return: number;
  /** Ignored when `return` is Infinity. */
  output: O | undefined;
}

/** Steps left, shared by every search of one check so the whole check is bounded. */
export interface Budget {
  remaining: number;
}

export type SearchOutcome<S> =
  | {kind: 'ok'}
  | {kind: 'timeout'}
  | {
      kind: 'violation';
      /** Most ops linearized on any search path before it got stuck. */
      bestDepth: number;
      /** The op whose response came before it could be linearized, on that deepest path. */
      blocker: number;
      /** Model state at that point. */
      stateAtBlock: S;
    };

const END = -1;

/**
 * Decides whether `ops` (already restricted to one independent object) are linearizable with
 * respect to `model`. Deterministic; consumes one unit of `budget` per search step (an event
 * visited, or a cached state compared against) and returns `timeout` once it runs out.
 *
 * `pendingLast` only changes the order in which alternatives are tried (see below), hence the
 * time to an answer, never the answer.
 *
 * Events at equal times are ordered calls-before-returns, so intervals that merely touch are
 * treated as concurrent: a history is never rejected because of a tie.
 */
export function searchLinearization<S, I, O>(
  ops: ReadonlyArray<SearchOp<I, O>>,
  model: SequentialModel<S, I, O>,
  budget: Budget,
  pendingLast = false,
): SearchOutcome<S> {
  const n = ops.length;
  // Entry ids: i = call of op i, n + i = return of op i (completed ops only), 2n = list head.
  const HEAD = 2 * n;
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    order.push(i);
    if (ops[i]!.return !== Infinity) order.push(n + i);
  }
  const timeOf = (e: number): number => (e < n ? ops[e]!.call : ops[e - n]!.return);
  order.sort((a, b) => {
    const d = timeOf(a) - timeOf(b);
    if (d !== 0) return d;
    const ra = a < n ? 0 : 1;
    const rb = b < n ? 0 : 1;
    if (ra !== rb) return ra - rb;
    return a - b; // deterministic among equals
  });

  const next = new Int32Array(2 * n + 1).fill(END);
  const prev = new Int32Array(2 * n + 1).fill(END);
  let last = HEAD;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }

  // Dancing-links removal: the removed node keeps its own pointers, so re-inserting in reverse
  // order of removal (guaranteed by the stack discipline) restores the list exactly.
  const unlink = (e: number): void => {
    next[prev[e]!] = next[e]!;
    if (next[e] !== END) prev[next[e]!] = prev[e]!;
  };
  const relink = (e: number): void => {
    next[prev[e]!] = e;
    if (next[e] !== END) prev[next[e]!] = e;
  };
  const completed = (i: number): boolean => ops[i]!.return !== Infinity;
  const lift = (i: number): void => {
    unlink(i);
    if (completed(i)) unlink(n + i);
  };
  const unlift = (i: number): void => {
    if (completed(i)) relink(n + i);
    relink(i);
  };

  // Lowe's memoization, extended with subsumption for ops that never returned. A search node is
  // (completed ops linearized C, pending ops linearized P, model state v). Its future depends
  // only on that: a pending op still unlinearized can be used later or never, while one already
  // linearized cannot be taken back. So if (C, P', v) with P' ⊆ P was reached before, every
  // completion of (C, P, v) is also one of (C, P', v), which was (or is being) explored: prune.
  // With no pending ops this is exactly Lowe's cache. Without the subset test, failing histories
  // with a few pending writes blow up: every subset of them, placed anywhere, looks new.
  const slot = new Int32Array(n); // index of op i within its class (completed or pending)
  let nCompleted = 0;
  let nPending = 0;
  for (let i = 0; i < n; i++) slot[i] = completed(i) ? nCompleted++ : nPending++;
  const doneC = new Bitset(nCompleted);
  const doneP = new Bitset(nPending);
  const mark = (i: number): void => (completed(i) ? doneC.set(slot[i]!) : doneP.set(slot[i]!));
  const unmark = (i: number): void => (completed(i) ? doneC.clear(slot[i]!) : doneP.clear(slot[i]!));
  const seen = new Map<string, Uint32Array[]>();
  /** Records the current node; false if it is subsumed by one already recorded. */
  const remember = (stateHash: string): boolean => {
    const key = doneC.key() + '|' + stateHash;
    const subsets = seen.get(key);
    if (subsets === undefined) {
      seen.set(key, [doneP.snapshot()]);
      return true;
    }
    for (const prior of subsets) {
      // Comparing cached sets is work too: charge it so maxSteps bounds the running time.
      budget.remaining--;
      if (doneP.isSupersetOf(prior)) return false;
    }
    subsets.push(doneP.snapshot());
    return true;
  };

  const stackOps = new Int32Array(n);
  const stackStates: S[] = [];
  let depth = 0;
  let state = model.init();
  let entry = next[HEAD]!;
  // With `pendingLast`, each node is explored in two passes: first the completed ops that may go
  // next, then, only if those all fail, the pending ones. Either order is complete. Pending-last
  // usually caches the node that leaves pending ops out first, so the subsumption test prunes
  // the variants that include them with one comparison: good at refuting bad histories. Plain
  // event order tries an early pending write early, which is usually what a good history needs.
  const twoPass = pendingLast && nPending > 0;
  let pendingPass = false;

  let bestDepth = -1;
  let blocker = -1;
  let stateAtBlock = state;

  for (;;) {
    // Only the completed pass can run off the end (the pending pass stops at the return that
    // ended the completed pass): every completed op is linearized.
    if (entry === END) return {kind: 'ok'};
    if (budget.remaining <= 0) return {kind: 'timeout'};
    budget.remaining--;

    if (entry < n) {
      if (twoPass && completed(entry) === pendingPass) {
        entry = next[entry]!; // not this pass's kind of op
        continue;
      }
      const op = ops[entry]!;
      const nextState = model.step(state, op.input, completed(entry) ? op.output : undefined);
      if (nextState !== undefined) {
        mark(entry);
        if (remember(model.hash(nextState))) {
          stackOps[depth] = entry;
          stackStates[depth] = state;
          depth++;
          state = nextState;
          lift(entry);
          entry = next[HEAD]!;
          pendingPass = false;
          continue;
        }
        unmark(entry);
      }
      entry = next[entry]!;
    } else if (twoPass && !pendingPass) {
      pendingPass = true;
      entry = next[HEAD]!;
    } else {
      // A response arrived for an op not yet linearized and no choice here helps: undo the
      // most recent choice and try the alternatives after it, in the pass it was made in.
      if (depth > bestDepth) {
        bestDepth = depth;
        blocker = entry - n;
        stateAtBlock = state;
      }
      if (depth === 0) return {kind: 'violation', bestDepth, blocker, stateAtBlock};
      depth--;
      const undone = stackOps[depth]!;
      state = stackStates[depth]!;
      unmark(undone);
      unlift(undone);
      pendingPass = twoPass && !completed(undone);
      entry = next[undone]!;
    }
  }
}
