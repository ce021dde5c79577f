/**
 * A tiny data-driven script runner over the Harness, in the spirit of etcd-io/raft's interaction
 * tests. A script is a sequence of blocks:
 *
 *     # comments and blank lines between blocks are ignored
 *     <command> <args...>
 *     ----
 *     <expected output, one or more lines, no blank line>
 *
 * The first command must be `nodes <ids...> [prevote] [checkquorum]`. Commands:
 *   campaign ID | propose ID DATA | tick ID [N] | tick-all [N] | deliver [drop=ID,ID] | stabilize
 *   partition IDS | IDS ... | isolate ID | heal | read-index ID CTX | transfer FROM TO
 *   compact ID | restart ID | add-learner LEADER ID | add-voter LEADER ID | remove LEADER ID
 *   status [ID...] | log ID (its snapshot, if any, then its entries)
 * Actions print the messages they delivered (or `ok`); errors print `error: <name>`.
 * `runScript` returns the script with its outputs replaced by the actual ones (for SWARM_REWRITE=1).
 */
import {Harness, fmt} from './harness.js';
import type {Message} from '../../../../src/core/consensus/raft/index.js';

export interface Block {
  command: string;
  expected: string;
  /** Comment/blank lines that preceded the block, kept verbatim on rewrite. */
  preamble: string[];
}

export function parseScript(text: string): {blocks: Block[]; trailer: string[]} {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i++;
      continue;
    }
    const command = line.trim();
    if (lines[i + 1] !== '----') throw new Error(`line ${i + 2}: expected ---- after "${command}"`);
    i += 2;
    const out: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    blocks.push({command, expected: out.join('\n'), preamble});
    preamble = [];
  }
  return {blocks, trailer: preamble};
}

export function renderScript(blocks: (Block & {actual: string})[], trailer: string[]): string {
  const parts: string[] = [];
  for (const b of blocks) parts.push(...b.preamble, b.command, '----', b.actual);
  parts.push(...trailer);
  let s = parts.join('\n');
  if (!s.endsWith('\n')) s += '\n';
  return s;
}

function lines(ms: Message[]): string {
  return ms.length === 0 ? 'ok' : ms.map(fmt).join('\n');
}

export class ScriptRunner {
  private h?: Harness;

  private harness(): Harness {
    if (!this.h) throw new Error('the first command must be `nodes ...`');
    return this.h;
  }

  run(command: string): string {
    try {
      return this.exec(command);
    } catch (err) {
      return `error: ${(err as Error).name}: ${(err as Error).message}`;
    }
  }

  private exec(command: string): string {
    const [cmd, ...args] = command.split(/\s+/);
    if (cmd === 'nodes') {
      const ids = args.filter((a) => /^\w+$/.test(a) && a !== 'prevote' && a !== 'checkquorum');
      this.h = new Harness(ids, {config: {preVote: args.includes('prevote'), checkQuorum: args.includes('checkquorum')}});
      return 'ok';
    }
    const h = this.harness();
    const before = h.delivered.length;
    const delivered = (): string => lines(h.delivered.slice(before));
    const n = (s: string | undefined, d: number): number => (s === undefined ? d : Number(s));
    switch (cmd) {
      case 'campaign':
        h.campaign(args[0]!);
        return 'ok';
      case 'propose':
        h.propose(args[0]!, args.slice(1).join(' '));
        return 'ok';
      case 'tick':
        h.tick(args[0]!, n(args[1], 1));
        return 'ok';
      case 'tick-all':
        h.tickAll(n(args[0], 1));
        return 'ok';
      case 'deliver': {
        const drop = args.find((a) => a.startsWith('drop='))?.slice(5).split(',');
        h.deliver(drop ? {drop} : {});
        return delivered();
      }
      case 'stabilize':
        h.stabilize();
        return delivered();
      case 'partition':
        h.partition(...args.join(' ').split('|').map((g) => g.trim().split(/\s+/).filter(Boolean)));
        return 'ok';
      case 'isolate':
        h.isolate(args[0]!);
        return 'ok';
      case 'heal':
        h.heal();
        return 'ok';
      case 'read-index':
        h.readIndex(args[0]!, args[1]!);
        return 'ok';
      case 'transfer':
        h.transfer(args[0]!, args[1]!);
        return 'ok';
      case 'compact':
        h.compact(args[0]!);
        return 'ok';
      case 'restart':
        h.restart(args[0]!);
        return 'ok';
      case 'add-learner':
      case 'add-voter':
      case 'remove': {
        const [leader, node] = args as [string, string];
        if (!h.nodes.has(node) && cmd !== 'remove') h.addNode(node, {voters: h.status(leader).conf.voters});
        h.proposeConfChange(leader, {op: cmd, node});
        return 'ok';
      }
      case 'status': {
        const ids = args.length > 0 ? args : [...h.nodes.keys()];
        return ids
          .map((id) => {
            const s = h.status(id);
            const reads = h.node(id).readStates.map((r) => `${r.ctx}@${r.index}`);
            return `${id}: ${s.softState.role} term=${s.hardState.term} vote=${s.hardState.vote || '-'} lead=${s.softState.leader || '-'} commit=${s.hardState.commit} last=${s.lastIndex} applied=[${h.applied(id).join(',')}]${reads.length ? ` reads=[${reads.join(',')}]` : ''}`;
          })
          .join('\n');
      }
      case 'log': {
        const snap = h.node(args[0]!).storage.snapshot().meta;
        return [...(snap.index > 0 ? [`snapshot ${snap.term}/${snap.index}`] : []), ...h.log(args[0]!)].join('\n') || 'empty';
      }
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  }
}

/** Runs a script; returns each block's actual output and the rewritten text. */
export function runScript(text: string): {blocks: (Block & {actual: string})[]; rewritten: string} {
  const {blocks, trailer} = parseScript(text);
  const runner = new ScriptRunner();
  const done = blocks.map((b) => ({...b, actual: runner.run(b.command)}));
  return {blocks: done, rewritten: renderScript(done, trailer)};
}
