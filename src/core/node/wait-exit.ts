import {TimeoutError} from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until process `pid` is gone; TimeoutError after `timeoutMs`. Sends no signal. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new TimeoutError(`node pid ${pid} still running after ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
