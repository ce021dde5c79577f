import * as os from 'node:os';

/** What every benchmark's JSON records about the machine it ran on (noisy machines: keep the context). */
export function machineFacts<E extends Record<string, unknown>>(extra: E): Record<string, unknown> & E {
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cpuCount: os.cpus().length,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    osRelease: os.release(),
    totalMemMB: Math.round(os.totalmem() / 2 ** 20),
    loadavg: os.loadavg(),
    ...extra,
  };
}
