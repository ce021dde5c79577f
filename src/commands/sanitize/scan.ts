import * as fs from 'node:fs/promises';

import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {table} from '../../cli/render.js';
import {ExitCode, NotFoundError, UsageError} from '../../core/errors.js';
import type {SanitizeResult} from '../../core/security/sanitizer/index.js';

const MAX_INPUT = 64 * 1024 * 1024;

export default class SanitizeScan extends SwarmCommand {
  static override summary = 'Screen text or JSON for prompt injection, exfiltration, credentials and hidden Unicode.';
  static override description = `Reads FILE, or stdin when FILE is - or omitted and input is piped. Input that parses as a JSON object or array is scanned as JSON (every string, with its path) unless --input-format text.
Verdicts: allow (nothing to do); redact (credentials, vault values or hidden characters that can be removed: --redact prints the cleaned text); block (prompt injection or exfiltration: do not pass it on).
Exit codes: 0 allow or redact, 5 block, 2 no input on a terminal or bad flag, 3 FILE not found.`;
  static override examples = [
    '<%= config.bin %> sanitize scan page.html --direction output',
    'curl -s https://example.com | <%= config.bin %> sanitize scan --direction output',
    '<%= config.bin %> sanitize scan tool-call.json --json | jq .verdict',
    '<%= config.bin %> sanitize scan log.txt --redact > log.clean.txt',
  ];
  // ignoreStdin: oclif would otherwise take piped stdin as the FILE argument itself.
  static override args = {file: Args.string({required: false, ignoreStdin: true, description: 'File to scan, or - for stdin.'})};
  static override flags = {
    direction: Flags.option({options: ['input', 'output'] as const, default: 'input', summary: 'Which way the data flows: into a tool (input) or out of one (output).', env: 'SWARM_DIRECTION'})(),
    'input-format': Flags.option({options: ['auto', 'text', 'json'] as const, default: 'auto', summary: 'Scan as text, as JSON, or JSON when it parses as an object or array.', env: 'SWARM_INPUT_FORMAT'})(),
    redact: Flags.boolean({summary: 'Print the input with redactions applied (unchanged when allowed, nothing when blocked); the verdict goes to stderr.', env: 'SWARM_REDACT'}),
  };

  async run(): Promise<SanitizeResult> {
    const {args, flags} = await this.parse(SanitizeScan);
    const raw = await readInput(args.file);
    const input = asInput(raw, flags['input-format']);
    const {sanitize} = await import('../../core/security/sanitizer/index.js');
    const result = sanitize(input, {direction: flags.direction});
    process.exitCode = result.verdict === 'block' ? ExitCode.Refused : ExitCode.Ok;
    if (this.jsonEnabled()) return result;
    if (flags.redact) {
      if (result.verdict !== 'block') process.stdout.write(printable(result.verdict === 'redact' ? result.redacted : input));
      process.stderr.write(summary(result) + '\n');
    } else {
      process.stdout.write(summary(result) + '\n' + findingsTable(result, typeof input !== 'string'));
    }
    return result;
  }
}

async function readInput(file: string | undefined): Promise<string> {
  if (file === undefined || file === '-') {
    if (file === undefined && process.stdin.isTTY) throw new UsageError('no input: give a FILE, pipe text in (cat out.txt | swarm sanitize scan), or use - to type it and end with Ctrl-D');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of process.stdin) {
      size += (c as Buffer).length;
      if (size > MAX_INPUT) throw new UsageError('input is larger than 64 MiB: split it and scan the parts');
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    const st = await fs.stat(file);
    if (st.isDirectory()) throw new UsageError(`${file} is a directory: give a file`);
    if (st.size > MAX_INPUT) throw new UsageError(`${file} is larger than 64 MiB: split it and scan the parts`);
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no such file: ${file}`);
    throw err;
  }
}

function asInput(raw: string, format: 'auto' | 'text' | 'json'): unknown {
  if (format === 'text') return raw;
  const looksJson = /^\s*[[{]/.test(raw);
  if (format === 'auto' && !looksJson) return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch (err) {
    if (format === 'json') throw new UsageError(`input is not JSON: ${(err as Error).message.split('\n')[0]}`);
    return raw;
  }
}

function printable(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2) + '\n';
}

function summary(r: SanitizeResult): string {
  const acting = r.findings.filter((f) => f.action !== 'allow').length;
  const info = r.findings.length - acting;
  const parts = [`${acting} finding${acting === 1 ? '' : 's'}`];
  if (info) parts.push(`${info} info`);
  if (r.stats.decodeLimited) parts.push('decode limit reached: some blobs not inspected');
  return `verdict: ${r.verdict} (${parts.join(', ')})`;
}

function findingsTable(r: SanitizeResult, json: boolean): string {
  if (r.findings.length === 0) return '';
  const rows = r.findings.map((f) => [f.action === 'allow' ? 'info' : f.action, f.rule, `${f.span.start}-${f.span.end}`, ...(json ? [f.path ?? '$'] : []), f.reason]);
  return table(['ACTION', 'RULE', 'SPAN', ...(json ? ['PATH'] : []), 'REASON'], rows);
}
