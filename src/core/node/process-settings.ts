/**
 * How a node process is started: glibc malloc settings (the GLIBC_TUNABLES environment variable) and
 * V8 flags. Both are read once when the process starts, so whoever starts a node sets them: the `#!`
 * line of bin/run.js, `node start --detach`, and the test and benchmark harnesses (a test keeps the
 * `#!` line equal to these).
 *
 * Why, measured on a 256 MiB snapshot create across four nodes on a 2-core VM (the node's heaviest
 * bulk path: buffers of 64 KiB to 1 MiB allocated and dropped per chunk, for AES-GCM and msgpack
 * output, frames, file I/O):
 * - malloc: by default glibc serves such buffers with fresh mmap()s, or trims the heap as soon as they
 *   are freed, so each is faulted in page by page again; on a VM those faults cost several times the
 *   AES-GCM and SHA-256 work. A fixed mmap threshold of 4 MiB and a trim threshold of 64 MiB keep the
 *   memory in the heap for reuse: about 30% less CPU across the nodes. The price: a node keeps up to
 *   64 MiB of freed heap rather than returning it at once.
 * - `--single-threaded-gc --no-incremental-marking`: every ~64 MiB of such buffers makes V8 start a
 *   major GC of the (small, ~12 MiB) heap. With concurrent marking threads those GCs took a quarter of
 *   all CPU, the helper threads contending with the four nodes' own work for two cores; on the main
 *   thread they cost far less (create 3.1-3.3 s -> 2.2-2.4 s, 30% less CPU). Marking incrementally, in
 *   ~150 steps interleaved with the transfer, cost more again than one atomic pass over so small a
 *   heap (create 1.7-2.0 s -> 1.3-1.5 s). A node's heap is small, so a full pause stays in the tens of
 *   milliseconds (the benchmark reports the longest control-socket stall).
 */
export const NODE_GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=67108864';
export const NODE_V8_FLAGS: readonly string[] = ['--single-threaded-gc', '--no-incremental-marking'];

/** `env` with the node's malloc settings added (an operator's own GLIBC_TUNABLES are kept, ours appended). */
export function nodeProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own = env.GLIBC_TUNABLES;
  if (own?.includes(NODE_GLIBC_TUNABLES)) return env;
  return {...env, GLIBC_TUNABLES: own ? `${own}:${NODE_GLIBC_TUNABLES}` : NODE_GLIBC_TUNABLES};
}
