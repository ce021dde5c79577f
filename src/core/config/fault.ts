/**
 * Crash injection for tests: `SWARM_FAULT=<point>[,<point>...]` makes the process kill itself with
 * SIGKILL when it reaches a named point, so a test can prove what a crash at that exact step leaves
 * behind. Read once; a no-op when unset.
 */
const armed = new Set((process.env.SWARM_FAULT ?? '').split(',').map((s) => s.trim()).filter(Boolean));

export function faultPoint(name: string): void {
  if (armed.size > 0 && armed.has(name)) process.kill(process.pid, 'SIGKILL');
}
