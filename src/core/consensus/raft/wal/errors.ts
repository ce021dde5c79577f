import {ExitCode, SwarmError} from '../../../errors.js';

/**
 * The WAL or a snapshot it depends on is damaged in a way a crash cannot explain (a bad record
 * followed by good ones, a missing or unreadable snapshot). Recovery stops instead of guessing:
 * silently skipping a record could un-acknowledge a vote or an append that peers relied on.
 */
export class WalCorruptError extends SwarmError {
  override readonly name = 'WalCorruptError';
  readonly exitCode = ExitCode.Internal;
  readonly code = 'wal_corrupt';
  /** The damaged (or missing) file, and the byte offset of the bad record when there is one. */
  readonly file: string;
  readonly offset: number | undefined;

  constructor(file: string, offset: number | undefined, what: string) {
    const where = offset === undefined ? file : `${file} at byte offset ${offset}`;
    super(`raft storage corrupt: ${where}: ${what}; this node must be restored from its peers or a snapshot (move the data directory aside and rejoin)`);
    this.file = file;
    this.offset = offset;
  }
}

/** `bootstrap` was asked to initialise a directory that already holds a raft log. */
export class WalExistsError extends SwarmError {
  override readonly name = 'WalExistsError';
  readonly exitCode = ExitCode.Conflict;
  readonly code = 'wal_exists';
}

/** Thrown by the test-only crash hook (FileStorageOptions.crashAt) to stop a mutator midway. */
export class SimulatedCrashError extends Error {
  override readonly name = 'SimulatedCrashError';
}
