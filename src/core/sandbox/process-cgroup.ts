/**
 * Best-effort per-run cgroup for the process runner: a pids limit (fork bombs) and a memory limit with
 * a reliable OOM signal. Works with cgroup v2 (unified at /sys/fs/cgroup, pids+memory delegatable) or
 * cgroup v1 (/sys/fs/cgroup/pids and /sys/fs/cgroup/memory), when the hierarchy is writable (root, or
 * a delegated subtree). When neither works the runner falls back to rlimits (see process-runner.ts).
 */
import {randomBytes} from 'node:crypto';
import {existsSync} from 'node:fs';
import {mkdir, readFile, rmdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';

const ROOT = '/sys/fs/cgroup';

export interface RunCgroup {
  /** Directories whose cgroup.procs the sandbox's first process must join. */
  readonly procDirs: string[];
  readonly pidsLimited: boolean;
  readonly memoryLimited: boolean;
  /** True when the kernel OOM-killed something in this cgroup. */
  oomKilled(): Promise<boolean>;
  /** Kills every process left in the cgroup and removes it. */
  destroy(): Promise<void>;
}

async function tryWrite(path: string, value: string): Promise<boolean> {
  try {
    await writeFile(path, value);
    return true;
  } catch {
    return false;
  }
}

async function readPids(dir: string): Promise<number[]> {
  try {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function emptyAndRemove(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = await readPids(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  try {
    await rmdir(dir);
  } catch {
    /* still busy or already removed: nothing more we can do */
  }
}

async function makeV2(name: string, pids: number, memoryBytes: number): Promise<RunCgroup | null> {
  if (!existsSync(join(ROOT, 'cgroup.controllers'))) return null;
  const controllers = (await readFile(join(ROOT, 'cgroup.controllers'), 'utf8')).split(/\s+/);
  if (!controllers.includes('pids')) return null;
  await tryWrite(join(ROOT, 'cgroup.subtree_control'), '+pids +memory');
  const dir = join(ROOT, name);
  try {
    await mkdir(dir);
  } catch {
    return null;
  }
  const pidsLimited = await tryWrite(join(dir, 'pids.max'), String(pids));
  const memoryLimited = memoryBytes > 0 && (await tryWrite(join(dir, 'memory.max'), String(memoryBytes)));
  if (memoryLimited) await tryWrite(join(dir, 'memory.swap.max'), '0');
  if (!pidsLimited) {
    await emptyAndRemove(dir);
    return null;
  }
  return {
    procDirs: [dir],
    pidsLimited,
    memoryLimited,
    async oomKilled() {
      if (!memoryLimited) return false;
      try {
        const m = /^oom_kill (\d+)$/m.exec(await readFile(join(dir, 'memory.events'), 'utf8'));
        return m !== null && Number(m[1]) > 0;
      } catch {
        return false;
      }
    },
    destroy: () => emptyAndRemove(dir),
  };
}

async function makeV1(name: string, pids: number, memoryBytes: number): Promise<RunCgroup | null> {
  const pidsRoot = join(ROOT, 'pids');
  if (!existsSync(join(pidsRoot, 'cgroup.procs'))) return null;
  const pidsDir = join(pidsRoot, name);
  try {
    await mkdir(pidsDir);
  } catch {
    return null;
  }
  if (!(await tryWrite(join(pidsDir, 'pids.max'), String(pids)))) {
    await emptyAndRemove(pidsDir);
    return null;
  }
  const dirs = [pidsDir];
  let memDir: string | null = null;
  const memRoot = join(ROOT, 'memory');
  if (memoryBytes > 0 && existsSync(join(memRoot, 'cgroup.procs'))) {
    const candidate = join(memRoot, name);
    try {
      await mkdir(candidate);
      if (await tryWrite(join(candidate, 'memory.limit_in_bytes'), String(memoryBytes))) {
        await tryWrite(join(candidate, 'memory.memsw.limit_in_bytes'), String(memoryBytes));
        memDir = candidate;
        dirs.push(candidate);
      } else {
        await emptyAndRemove(candidate);
      }
    } catch {
      /* no memory cgroup: rlimit fallback */
    }
  }
  return {
    procDirs: dirs,
    pidsLimited: true,
    memoryLimited: memDir !== null,
    async oomKilled() {
      if (memDir === null) return false;
      try {
        const m = /^oom_kill (\d+)$/m.exec(await readFile(join(memDir, 'memory.oom_control'), 'utf8'));
        return m !== null && Number(m[1]) > 0;
      } catch {
        return false;
      }
    },
    async destroy() {
      await Promise.all(dirs.map((d) => emptyAndRemove(d)));
    },
  };
}

/** Creates a cgroup for one run, or null when this machine does not let us (then use rlimits). */
export async function createRunCgroup(pids: number, memoryBytes: number): Promise<RunCgroup | null> {
  if (process.platform !== 'linux') return null;
  const name = `swarm-sandbox-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    return (await makeV2(name, pids, memoryBytes)) ?? (await makeV1(name, pids, memoryBytes));
  } catch {
    return null;
  }
}
