import {readFileSync} from 'node:fs';
import {join} from 'node:path';

import {NotFoundError, UsageError} from '../errors.js';
import {ancestorsRel, checkRel, depthRel, probe} from './paths.js';
import type {DiskKind} from './paths.js';

/**
 * The tree as a transaction's staged operations would leave it, over the disk as it is (stable: the
 * root is locked). Operations are checked against this view as they are staged, so a bad one fails
 * at its call, before anything is written. Only files are written, deleted and renamed; directories
 * are created as needed and never removed.
 */
export type Final =
  | {kind: 'data'; data: Buffer; mode: number}
  /** The content of a file the caller prepared (big content that should not sit in memory). */
  | {kind: 'file'; source: string; mode: number}
  /** The file that was at `from` before the transaction (a rename). */
  | {kind: 'move'; from: string}
  | {kind: 'absent'};

export interface PlanEntry {
  path: string;
  final: Final;
  /** Whether a file is there now (a backup is kept for rollback). */
  existed: boolean;
}

export interface Plan {
  entries: PlanEntry[];
  /** Directories to create, shallowest first. */
  dirs: string[];
}

export class StagedView {
  private readonly finals = new Map<string, Final>();
  /** For each directory, how many staged files below it are present: it is then a directory in the view. */
  private readonly present = new Map<string, number>();

  constructor(private readonly root: string) {}

  /** Stages `f` at `rel`, keeping `present` in step (a lookup per call instead of a scan of every path). */
  private setFinal(rel: string, f: Final): void {
    const was = this.finals.get(rel);
    this.finals.set(rel, f);
    const delta = (f.kind !== 'absent' ? 1 : 0) - (was !== undefined && was.kind !== 'absent' ? 1 : 0);
    if (delta === 0) return;
    for (const a of ancestorsRel(rel)) {
      const n = (this.present.get(a) ?? 0) + delta;
      if (n === 0) this.present.delete(a);
      else this.present.set(a, n);
    }
  }

  /** What `rel` is in the view. Symlinks and special files on the path are refused (UsageError). */
  kind(rel: string): DiskKind {
    if (this.present.has(rel)) return 'dir';
    const f = this.finals.get(rel);
    if (f !== undefined) return f.kind === 'absent' ? 'absent' : 'file';
    return probe(this.root, rel);
  }

  read(rel: string): Buffer | undefined {
    checkRel(rel);
    const k = this.kind(rel);
    if (k === 'dir') throw new UsageError(`${rel} is a directory, not a file`);
    if (k === 'absent') return undefined;
    const f = this.finals.get(rel) ?? {kind: 'move', from: rel};
    if (f.kind === 'data') return Buffer.from(f.data);
    if (f.kind === 'file') return readFileSync(f.source);
    if (f.kind === 'move') return readFileSync(join(this.root, f.from));
    return undefined;
  }

  write(rel: string, data: Buffer, mode: number): void {
    this.checkTarget(rel);
    this.setFinal(rel, {kind: 'data', data, mode});
  }

  writeFile(rel: string, source: string, mode: number): void {
    this.checkTarget(rel);
    this.setFinal(rel, {kind: 'file', source, mode});
  }

  delete(rel: string): void {
    checkRel(rel);
    const k = this.kind(rel);
    if (k === 'dir') throw new UsageError(`${rel} is a directory; transactions delete files only`);
    if (k === 'file') this.setFinal(rel, {kind: 'absent'});
  }

  rename(from: string, to: string): void {
    checkRel(from);
    checkRel(to);
    const k = this.kind(from);
    if (k === 'absent') throw new NotFoundError(`cannot rename ${from}: no such file`);
    if (k === 'dir') throw new UsageError(`${from} is a directory; transactions rename files only`);
    if (from === to) return;
    this.checkTarget(to);
    this.setFinal(to, this.finals.get(from) ?? {kind: 'move', from});
    this.setFinal(from, {kind: 'absent'});
  }

  /** A file may be written at `rel`: it is not a directory, and no ancestor is a file. */
  private checkTarget(rel: string): void {
    checkRel(rel);
    if (this.kind(rel) === 'dir') throw new UsageError(`${rel} is a directory; delete or rename its files, not the directory`);
    for (const a of ancestorsRel(rel)) {
      if (this.kind(a) === 'file') throw new UsageError(`cannot put ${rel}: ${a} is a file; delete it first to make it a directory`);
    }
  }

  /** The net changes, against the disk: paths left as they are drop out. */
  plan(): Plan {
    const entries: PlanEntry[] = [];
    const dirs = new Set<string>();
    const dirOnDisk = new Map<string, boolean>(); // many files share their directories
    for (const path of [...this.finals.keys()].sort()) {
      const final = this.finals.get(path)!;
      const existed = probe(this.root, path) === 'file';
      if (final.kind === 'absent' && !existed) continue;
      if (final.kind === 'move' && final.from === path) continue;
      entries.push({path, final, existed});
      if (final.kind === 'absent') continue;
      for (const a of ancestorsRel(path)) {
        let isDir = dirOnDisk.get(a);
        if (isDir === undefined) dirOnDisk.set(a, (isDir = probe(this.root, a) === 'dir'));
        if (!isDir) dirs.add(a);
      }
    }
    const sortedDirs = [...dirs].sort((a, b) => depthRel(a) - depthRel(b) || (a < b ? -1 : 1));
    return {entries, dirs: sortedDirs};
  }
}
