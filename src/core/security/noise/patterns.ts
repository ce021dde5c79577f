import {NoiseError} from './errors.js';

/** A handshake token (spec 7.1), plus `psk` from the psk modifiers (spec 9.2). */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

/**
 * A handshake pattern: the static keys each side declares in pre-messages, and the token lists of
 * the handshake messages. Messages alternate, starting with the initiator; even indices are
 * initiator-to-responder.
 */
export interface HandshakePattern {
  readonly name: string;
  readonly preInitiator: readonly 's'[];
  readonly preResponder: readonly 's'[];
  readonly messages: readonly (readonly Token[])[];
  /** True when any psk modifier is present: then `e` also does MixKey (spec 9.2). */
  readonly psk: boolean;
  /** One-way patterns (N, K, X): a single message, and all transport traffic goes initiator to responder. */
  readonly oneWay: boolean;
}

type Base = Omit<HandshakePattern, 'name' | 'psk' | 'oneWay'>;

/** Compact notation: messages separated by '|', tokens by ','. Mirrors the spec's tables. */
function p(preInitiator: string, preResponder: string, messages: string): Base {
  const pre = (s: string): 's'[] => (s === 's' ? ['s'] : []);
  return {
    preInitiator: pre(preInitiator),
    preResponder: pre(preResponder),
    messages: messages.split('|').map((m) => m.split(',').map((t) => t.trim() as Token)),
  };
}

// Spec revision 34: one-way patterns (7.4), fundamental interactive patterns (7.5) and deferred
// patterns (18.1). Pre-messages only ever carry `s` in these patterns.
const PATTERNS: Readonly<Record<string, Base>> = {
  N: p('', 's', 'e, es'),
  K: p('s', 's', 'e, es, ss'),
  X: p('', 's', 'e, es, s, ss'),

  NN: p('', '', 'e | e, ee'),
  NK: p('', 's', 'e, es | e, ee'),
  NX: p('', '', 'e | e, ee, s, es'),
  KN: p('s', '', 'e | e, ee, se'),
  KK: p('s', 's', 'e, es, ss | e, ee, se'),
  KX: p('s', '', 'e | e, ee, se, s, es'),
  XN: p('', '', 'e | e, ee | s, se'),
  XK: p('', 's', 'e, es | e, ee | s, se'),
  XX: p('', '', 'e | e, ee, s, es | s, se'),
  IN: p('', '', 'e, s | e, ee, se'),
  IK: p('', 's', 'e, es, s, ss | e, ee, se'),
  IX: p('', '', 'e, s | e, ee, se, s, es'),

  NK1: p('', 's', 'e | e, ee, es'),
  NX1: p('', '', 'e | e, ee, s | es'),
  X1N: p('', '', 'e | e, ee | s | se'),
  X1K: p('', 's', 'e, es | e, ee | s | se'),
  XK1: p('', 's', 'e | e, ee, es | s, se'),
  X1K1: p('', 's', 'e | e, ee, es | s | se'),
  X1X: p('', '', 'e | e, ee, s, es | s | se'),
  XX1: p('', '', 'e | e, ee, s | es, s, se'),
  X1X1: p('', '', 'e | e, ee, s | es, s | se'),
  K1N: p('s', '', 'e | e, ee | se'),
  K1K: p('s', 's', 'e, es | e, ee | se'),
  KK1: p('s', 's', 'e | e, ee, se, es'),
  K1K1: p('s', 's', 'e | e, ee, es | se'),
  K1X: p('s', '', 'e | e, ee, s, es | se'),
  KX1: p('s', '', 'e | e, ee, se, s | es'),
  K1X1: p('s', '', 'e | e, ee, s | se, es'),
  I1N: p('', '', 'e, s | e, ee | se'),
  I1K: p('', 's', 'e, es, s | e, ee | se'),
  IK1: p('', 's', 'e, s | e, ee, se, es'),
  I1K1: p('', 's', 'e, s | e, ee, es | se'),
  I1X: p('', '', 'e, s | e, ee, s, es | se'),
  IX1: p('', '', 'e, s | e, ee, se, s | es'),
  I1X1: p('', '', 'e, s | e, ee, s | se, es'),
};

/** The only suite this module implements; anything else is refused rather than silently misused. */
export const SUPPORTED_SUITE = '25519_AESGCM_SHA256';

/**
 * Parses `Noise_<pattern><modifiers>_25519_AESGCM_SHA256` and applies psk modifiers
 * (`pskN`, joined with '+'): psk0 prepends `psk` to the first message, pskN (N >= 1) appends it to
 * message N. Throws NoiseError for other suites, unknown patterns or unsupported modifiers.
 */
export function parseProtocolName(protocolName: string): HandshakePattern {
  const parts = protocolName.split('_');
  if (parts.length !== 5 || parts[0] !== 'Noise') throw new NoiseError(`malformed protocol name: ${protocolName}`);
  const suite = parts.slice(2).join('_');
  if (suite !== SUPPORTED_SUITE) throw new NoiseError(`unsupported suite ${suite}; only ${SUPPORTED_SUITE} is implemented`);

  const m = /^([NKXI1]+)(.*)$/.exec(parts[1] ?? '');
  const name = m?.[1] ?? '';
  const base = PATTERNS[name];
  if (m === null || base === undefined) throw new NoiseError(`unknown handshake pattern in ${protocolName}`);

  const messages = base.messages.map((msg) => [...msg]);
  const modifiers = m[2] === '' ? [] : (m[2] ?? '').split('+');
  const seen = new Set<number>();
  for (const mod of modifiers) {
    const pm = /^psk(0|[1-9][0-9]*)$/.exec(mod);
    if (pm === null) throw new NoiseError(`unsupported modifier '${mod}' in ${protocolName}`);
    const n = Number(pm[1]);
    if (seen.has(n) || n > messages.length) throw new NoiseError(`invalid modifier '${mod}' in ${protocolName}`);
    seen.add(n);
    if (n === 0) messages[0]?.unshift('psk');
    else messages[n - 1]?.push('psk');
  }
  return {
    name: parts[1] ?? name,
    preInitiator: base.preInitiator,
    preResponder: base.preResponder,
    messages,
    psk: modifiers.length > 0,
    oneWay: base.messages.length === 1,
  };
}
