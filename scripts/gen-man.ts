/**
 * Generates one man page per command (man/swarm-<topic>-<verb>.1) plus man/swarm.1 from the same oclif
 * metadata that drives `--help`. `--check` writes nothing and exits 1 when a committed page is stale.
 *
 *   npm run man            # regenerate
 *   node dist/scripts/gen-man.js --check
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

import {Config} from '@oclif/core';
import type {Command} from '@oclif/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const manDir = path.join(root, 'man');

const EXIT_CODES: [number, string][] = [
  [0, 'success'],
  [1, 'unexpected internal error'],
  [2, 'usage error: bad flag or argument'],
  [3, 'not found'],
  [4, 'cannot reach the node or cluster'],
  [5, 'refused: authentication, policy, sanitizer'],
  [6, 'conflict, or not leader after retries'],
  [7, 'timeout'],
];

/** roff-escapes text: backslashes, leading dots/quotes, and hyphens in option names. */
function esc(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function exitCodeSection(): string {
  return ['.SH EXIT STATUS', ...EXIT_CODES.flatMap(([c, d]) => ['.TP', `.B ${c}`, esc(d)])].join('\n');
}

function renderExample(e: Command.Example, bin: string, cmdId: string): string {
  const text = typeof e === 'string' ? e : e.command;
  return text.replace(/<%= config\.bin %>/g, bin).replace(/<%= command\.id %>/g, cmdId);
}

function page(cmd: Command.Loadable, bin: string): string {
  const words = cmd.id.split(':');
  const title = `${bin}-${words.join('-')}`.toUpperCase();
  const flags = Object.entries(cmd.flags).sort(([a], [b]) => a.localeCompare(b));
  const lines = [
    `.TH ${esc(title)} 1 "" "${bin}" "swarm manual"`,
    '.SH NAME',
    `${esc(`${bin} ${words.join(' ')}`)} \\- ${esc(cmd.summary ?? '')}`,
    '.SH SYNOPSIS',
    `.B ${esc(`${bin} ${words.join(' ')}`)}`,
    '[\\fIFLAGS\\fR]',
    '.SH DESCRIPTION',
    esc([cmd.summary, cmd.description].filter(Boolean).join('\n\n')).replace(/\n\n/g, '\n.PP\n'),
    '.SH OPTIONS',
  ];
  for (const [name, f] of flags) {
    const takesValue = f.type === 'option';
    const head = `${f.char ? `\\-${f.char}, ` : ''}\\-\\-${esc(name)}${takesValue ? ' \\fIVALUE\\fR' : ''}`;
    const details: string[] = [];
    if (f.summary || f.description) details.push(esc(f.summary ?? f.description ?? ''));
    if (f.type === 'option' && f.options) details.push(`One of: ${esc(f.options.join(', '))}.`);
    if (f.type === 'option' && f.default !== undefined && typeof f.default !== 'function') details.push(`Default: ${esc(String(f.default))}.`);
    if (f.type === 'boolean' && f.allowNo) details.push(`Negate with \\-\\-no\\-${esc(name)}.`);
    if (f.env) details.push(`Environment: ${esc(f.env)}.`);
    lines.push('.TP', `.B ${head}`, details.join(' ') || '.');
  }
  if (cmd.examples?.length) {
    lines.push('.SH EXAMPLES');
    for (const e of cmd.examples) lines.push('.PP', '.nf', esc(renderExample(e, bin, cmd.id)), '.fi');
  }
  lines.push(exitCodeSection(), '.SH SEE ALSO', `${bin}(1)`);
  return lines.join('\n') + '\n';
}

function overview(cmds: Command.Loadable[], bin: string): string {
  const lines = [
    `.TH SWARM 1 "" "${bin}" "swarm manual"`,
    '.SH NAME',
    `${bin} \\- operate peer\\-to\\-peer clusters of agent nodes`,
    '.SH SYNOPSIS',
    `.B ${bin}`,
    '\\fITOPIC\\fR \\fIVERB\\fR [\\fIFLAGS\\fR]',
    '.SH DESCRIPTION',
    'Every command accepts \\-\\-json (one JSON document on stdout; errors as {"error":{"code","message"}} on stderr), \\-\\-data\\-dir (SWARM_DATA_DIR) and \\-\\-no\\-color (NO_COLOR). Every flag has an environment variable SWARM_<FLAG>.',
    '.SH COMMANDS',
  ];
  for (const c of cmds) lines.push('.TP', `.B ${esc(`${bin} ${c.id.split(':').join(' ')}`)}`, esc(c.summary ?? ''));
  lines.push(exitCodeSection(), '.SH SEE ALSO', cmds.map((c) => `${bin}\\-${esc(c.id.split(':').join('-'))}(1)`).join(', '));
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const config = await Config.load({root});
  const bin = config.bin;
  const cmds = config.commands.filter((c) => !c.hidden && c.pluginName === config.name).sort((a, b) => a.id.localeCompare(b.id));
  const pages = new Map<string, string>([[`${bin}.1`, overview(cmds, bin)]]);
  for (const c of cmds) pages.set(`${bin}-${c.id.split(':').join('-')}.1`, page(c, bin));

  if (check) {
    const stale: string[] = [];
    for (const [file, text] of pages) {
      const p = path.join(manDir, file);
      if (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== text) stale.push(file);
    }
    const extra = fs.existsSync(manDir) ? fs.readdirSync(manDir).filter((f) => f.endsWith('.1') && !pages.has(f)) : [];
    if (stale.length || extra.length) {
      process.stderr.write(`man pages are stale: ${[...stale, ...extra.map((f) => `${f} (no such command)`)].join(', ')}; run: npm run man\n`);
      process.exit(1);
    }
    process.stdout.write(`man pages fresh (${pages.size})\n`);
    return;
  }
  fs.mkdirSync(manDir, {recursive: true});
  for (const f of fs.readdirSync(manDir)) if (f.endsWith('.1') && !pages.has(f)) fs.rmSync(path.join(manDir, f));
  for (const [file, text] of pages) fs.writeFileSync(path.join(manDir, file), text);
  process.stdout.write(`wrote ${pages.size} man pages to ${path.relative(process.cwd(), manDir) || manDir}\n`);
}

await main();
