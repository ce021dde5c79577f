/**
 * The sequential specification the checker linearizes against: a single register per key
 * holding a string or nothing (null), with get / put / del / compare-and-swap.
 */

export type KvInput =
  | {op: 'get'; key: string}
  | {op: 'put'; key: string; value: string}
  | {op: 'del'; key: string}
  /** `expected: null` means "swap only if the key is absent". */
  | {op: 'cas'; key: string; expected: string | null; value: string};

export type KvOutput =
  /** get: `value` is the value read (null when absent). cas: ok true = swapped. put/del: ok true. */
  | {ok: true; value?: string | null}
  /** cas did not swap (the current value differed from `expected`). */
  | {ok: false};

/** The state of one key: its value, or null when absent. */
export type KvState = string | null;

/**
 * A deterministic sequential model. `S` must not include `undefined`: `step` uses it to say
 * "this op, with this output, cannot happen in this state".
 */
export interface SequentialModel<S, I, O> {
  /** The state before any op. */
  init(): S;
  /**
   * The state after applying `input` in `state`, or undefined if the op could not have produced
   * `output` there. `output === undefined` means the op never returned: any output is acceptable,
   * so only its effect matters.
   */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** Injective string form of a state, for the memoization cache. */
  hash(state: S): string;
  /** Short human form of a state, for explanations. */
  describeState(state: S): string;
  /** Short human form of an op, for explanations. */
  describeOp(input: I, output: O | undefined): string;
}

const show = (v: string | null): string => (v === null ? 'absent' : JSON.stringify(v));

/** The single-key KV register model (histories are split per key before checking). */
export const kvModel: SequentialModel<KvState, KvInput, KvOutput> = {
  init: () => null,

  step(state, input, output) {
    switch (input.op) {
      case 'get':
        // A pending get has no effect and any output is fine.
        if (output === undefined) return state;
        return output.ok && output.value === state ? state : undefined;
      case 'put':
        return input.value;
      case 'del':
        return null;
      case 'cas': {
        const matches = state === input.expected;
        if (output === undefined) return matches ? input.value : state;
        if (output.ok) return matches ? input.value : undefined;
        return matches ? undefined : state;
      }
    }
  },

  // Prefixes keep null and every string distinct (e.g. null vs the string "null").
  hash: (state) => (state === null ? '-' : '+' + state),

  describeState: show,

  describeOp(input, output) {
    const k = JSON.stringify(input.key);
    let call: string;
    switch (input.op) {
      case 'get':
        call = `get(${k})`;
        break;
      case 'put':
        call = `put(${k}, ${JSON.stringify(input.value)})`;
        break;
      case 'del':
        call = `del(${k})`;
        break;
      case 'cas':
        call = `cas(${k}, ${show(input.expected)} -> ${JSON.stringify(input.value)})`;
        break;
    }
    if (output === undefined) return `${call} -> ? (never returned)`;
    if (input.op === 'get') return `${call} -> ${output.ok ? show(output.value ?? null) : 'error'}`;
    if (input.op === 'cas') return `${call} -> ${output.ok ? 'swapped' : 'not swapped'}`;
    return call;
  },
};
