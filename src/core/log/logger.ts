/**
 * Structured logger: one JSON object per line. Before anything is written, values of sensitive fields
 * and every registered secret value are replaced, so keys and vault values never reach a log.
 */
import {processSecrets, REDACTED} from './redactor.js';
import type {Redactor} from './redactor.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = {debug: 10, info: 20, warn: 30, error: 40};

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LogSink {
  write(line: string): void;
}

const SENSITIVE_KEY = /(secret|password|passphrase|token|api[-_]?key|private|psk)/i;

export function redactFields(fields: Record<string, unknown>, secrets: Redactor = processSecrets, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SENSITIVE_KEY.test(k)) out[k] = REDACTED;
    else if (typeof v === 'string') out[k] = secrets.redact(v);
    else if (Buffer.isBuffer(v)) out[k] = `<${v.length} bytes>`;
    else if (v && typeof v === 'object' && !Array.isArray(v) && depth < 4) out[k] = redactFields(v as Record<string, unknown>, secrets, depth + 1);
    else out[k] = v;
  }
  return out;
}

/** Every line goes through the process's redactor (or the one given) before the sink sees it. */
export function createLogger(sink: LogSink, opts: {level?: Level; component?: string; secrets?: Redactor; clock?: () => number} = {}): Logger {
  const secrets = opts.secrets ?? processSecrets;
  const min = LEVELS[opts.level ?? 'info'];
  const clock = opts.clock ?? Date.now;
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return;
    const rec = {
      ts: new Date(clock()).toISOString(),
      level,
      ...(opts.component ? {component: opts.component} : {}),
      msg: secrets.redact(msg),
      ...(fields ? redactFields(fields, secrets) : {}),
    };
    // Fields were redacted one by one; the whole line once more catches values inside arrays.
    sink.write(secrets.redact(JSON.stringify(rec)) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const nullLogger: Logger = {debug: () => {}, info: () => {}, warn: () => {}, error: () => {}};
