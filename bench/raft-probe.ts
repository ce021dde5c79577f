/**
 * Preloaded into each swarm node by the raft benchmark (`node --import dist/bench/raft-probe.js
 * bin/run.js node start ...`): counts and times every fsync/fdatasync the node makes (WAL appends,
 * hard-state records, snapshot files, directory syncs) and samples the event loop's utilisation.
 * The counters are written to $SWARM_BENCH_PROBE_FILE (no fsync) when the node gets SIGUSR2. Nothing
 * in src/ is changed: the probe wraps node:fs and re-syncs the named ESM exports, so
 * `import {fsyncSync} from 'node:fs'` in the WAL sees the wrapper.
 */
import fs from 'node:fs';
import {syncBuiltinESMExports} from 'node:module';
import {performance} from 'node:perf_hooks';

export interface ProbeStats {
  pid: number;
  /** Incremented by every write of the file. */
  seq: number;
  at: number;
  fsyncs: number;
  fsyncMs: number;
  maxFsyncMs: number;
  /** Cumulative event-loop time (ms) since start, from performance.eventLoopUtilization(). */
  loopActiveMs: number;
  loopIdleMs: number;
}

const out = process.env.SWARM_BENCH_PROBE_FILE;
if (out) {
  const stats: ProbeStats = {pid: process.pid, seq: 0, at: Date.now(), fsyncs: 0, fsyncMs: 0, maxFsyncMs: 0, loopActiveMs: 0, loopIdleMs: 0};
  const timed = <A extends unknown[], R>(fn: (...args: A) => R) =>
    function (this: unknown, ...args: A): R {
      const t0 = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        stats.fsyncs++;
        stats.fsyncMs += ms;
        if (ms > stats.maxFsyncMs) stats.maxFsyncMs = ms;
      }
    };
  fs.fsyncSync = timed(fs.fsyncSync);
  fs.fdatasyncSync = timed(fs.fdatasyncSync);
  syncBuiltinESMExports();

  // On demand only (the bench signals at phase boundaries): nothing runs on the node's event loop
  // in between. A periodic tmp+rename here cost ~7% of a node's busy time (rename waits on the journal).
  let seq = 0;
  const flush = (): void => {
    const elu = performance.eventLoopUtilization();
    stats.seq = ++seq;
    stats.at = Date.now();
    stats.loopActiveMs = elu.active;
    stats.loopIdleMs = elu.idle;
    try {
      fs.writeFileSync(out, JSON.stringify(stats));
    } catch {
      // the bench's temp dir is gone: nothing to report to
    }
  };
  process.on('SIGUSR2', flush);
  flush();
}
