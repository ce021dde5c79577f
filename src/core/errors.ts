/**
 * Typed errors. Every expected failure is one of these classes, each with a fixed `name` and one
 * documented exit code (CLI-CONVENTIONS.md). Callers branch on the class, never on message text.
 *
 * Exit codes: 0 ok · 1 internal · 2 usage · 3 not found · 4 unreachable · 5 refused ·
 * 6 conflict / not leader · 7 timeout.
 *
 * Messages are one line, say what to do, and never carry secret material.
 */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  NotFound: 3,
  Unreachable: 4,
  Refused: 5,
  Conflict: 6,
  Timeout: 7,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class SwarmError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  /** Stable machine-readable code, printed in `{error: {code, message}}`. */
  abstract readonly code: string;
}

export class UsageError extends SwarmError {
  override readonly name = 'UsageError';
  readonly exitCode = ExitCode.Usage;
  readonly code = 'usage';
}

export class NotFoundError extends SwarmError {
  override readonly name = 'NotFoundError';
  readonly exitCode = ExitCode.NotFound;
  readonly code = 'not_found';
}

export class UnreachableError extends SwarmError {
  override readonly name = 'UnreachableError';
  readonly exitCode = ExitCode.Unreachable;
  readonly code = 'unreachable';
}

export class RefusedError extends SwarmError {
  override readonly name = 'RefusedError';
  readonly exitCode = ExitCode.Refused;
  readonly code = 'refused';
}

export class ConflictError extends SwarmError {
  override readonly name = 'ConflictError';
  readonly exitCode = ExitCode.Conflict;
  readonly code = 'conflict';
}

export class TimeoutError extends SwarmError {
  override readonly name = 'TimeoutError';
  readonly exitCode = ExitCode.Timeout;
  readonly code = 'timeout';
}

export class InternalError extends SwarmError {
  override readonly name = 'InternalError';
  readonly exitCode = ExitCode.Internal;
  readonly code = 'internal';
}

/** Protocol-level failures (bad handshake, bad frame). Dropped and counted, never shown to operators raw. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** A broken invariant: stops the node (on in production too). */
export function assert(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`invariant broken: ${what}`);
}

export function exitCodeOf(err: unknown): ExitCodeValue {
  return err instanceof SwarmError ? err.exitCode : ExitCode.Internal;
}
