import {UsageError} from '../errors.js';
import type {TaskSpec} from './task.js';
import {invalidEnv} from './task.js';
import {parseEgressRules} from '../sandbox/egress-rules.js';

/**
 * Checks a task spec from the control API (the CLI, or a remote operator) before it enters the
 * replicated state: every field typed and bounded, secrets only as vault references. A bad field is a
 * UsageError (exit 2) that names it.
 */
export const SPEC_LIMITS = {commandArgs: 256, argChars: 64 * 1024, envVars: 128, egressRules: 32, labels: 32, priorityAbs: 1_000_000, retries: 100} as const;

const HOST_PORT = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$/;

export function validateTaskSpec(raw: unknown): TaskSpec {
  const bad = (what: string): never => {
    throw new UsageError(`task spec: ${what}`);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad('not an object');
  const o = raw as Record<string, unknown>;
  const known = new Set(['image', 'command', 'priority', 'requires', 'env', 'timeoutMs', 'retries', 'runner', 'allowEgress']);
  for (const k of Object.keys(o)) if (!known.has(k)) bad(`unknown field ${k}`);

  if (!Array.isArray(o.command) || o.command.length === 0 || o.command.length > SPEC_LIMITS.commandArgs) bad('command must be 1-256 strings');
  const command = o.command as unknown[];
  if (command.some((a) => typeof a !== 'string' || a.length > SPEC_LIMITS.argChars)) bad('command arguments must be strings');
  if (o.image !== undefined && (typeof o.image !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/.test(o.image))) bad('image is not a valid image reference');
  const runner = o.runner ?? 'auto';
  if (runner !== 'auto' && runner !== 'docker' && runner !== 'process') bad('runner must be auto, docker or process');
  if (runner === 'docker' && o.image === undefined) bad('the docker runner needs an image');
  const priority = o.priority ?? 0;
  if (!Number.isSafeInteger(priority) || Math.abs(priority as number) > SPEC_LIMITS.priorityAbs) bad('priority must be an integer within ±1000000');
  const retries = o.retries ?? 0;
  if (!Number.isSafeInteger(retries) || (retries as number) < 0 || (retries as number) > SPEC_LIMITS.retries) bad('retries must be 0-100');
  const timeoutMs = o.timeoutMs;
  if (!Number.isSafeInteger(timeoutMs) || (timeoutMs as number) <= 0) bad('timeoutMs must be a positive integer');

  const r = (o.requires ?? {}) as Record<string, unknown>;
  if (typeof r !== 'object' || Array.isArray(r)) bad('requires must be an object');
  const num = (v: unknown, what: string, dflt: number): number => {
    const n = v ?? dflt;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) bad(`${what} must be a non-negative number`);
    return n as number;
  };
  const cores = num(r.cores, 'requires.cores', 1);
  const memoryBytes = num(r.memoryBytes, 'requires.memoryBytes', 256 * 1024 * 1024);
  const gpus = num(r.gpus, 'requires.gpus', 0);
  if (!Number.isInteger(gpus)) bad('requires.gpus must be a whole number');
  const labels = stringRecord(r.labels ?? {}, 'requires.labels', SPEC_LIMITS.labels, bad);

  const env = stringRecord(o.env ?? {}, 'env', SPEC_LIMITS.envVars, bad);
  const envWhy = invalidEnv(env);
  if (envWhy) bad(envWhy);
  const allowEgress = o.allowEgress ?? [];
  if (!Array.isArray(allowEgress) || allowEgress.length > SPEC_LIMITS.egressRules) bad('allowEgress must be a list of host:port');
  for (const rule of allowEgress as unknown[]) if (typeof rule !== 'string' || !HOST_PORT.test(rule)) bad(`allowEgress ${String(rule).slice(0, 80)} is not host:port`);
  try {
    // The runners' own parser: what passes here is what a runner accepts (IPv4 or a name, no IPv6).
    parseEgressRules(allowEgress as string[]);
  } catch (err) {
    bad((err as Error).message);
  }

  return {
    ...(o.image !== undefined ? {image: o.image as string} : {}),
    command: command as string[],
    priority: priority as number,
    requires: {cores, memoryBytes, gpus, labels},
    env,
    timeoutMs: timeoutMs as number,
    retries: retries as number,
    runner: runner as TaskSpec['runner'],
    allowEgress: allowEgress as string[],
  };
}

function stringRecord(v: unknown, what: string, max: number, bad: (w: string) => never): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) bad(`${what} must be an object of strings`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > max) bad(`${what}: at most ${max} entries`);
  for (const [k, x] of entries) if (typeof x !== 'string' || k.length > 255 || x.length > 4096) bad(`${what}.${k} must be a string`);
  return Object.fromEntries(entries) as Record<string, string>;
}
