/**
 * Docker helpers for the sandbox integration tests. No registry is reachable, so the test image is
 * built locally from the host's static busybox: a rootfs with /bin/busybox and applet symlinks,
 * tarred with the system `tar` and imported as `swarm-busybox:test`.
 */
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import Dockerode from 'dockerode';

import {DockerRunner} from '../../src/core/sandbox/docker-runner.js';

export const BUSYBOX_IMAGE = 'swarm-busybox:test';
const APPLETS = [
  'sh', 'echo', 'cat', 'ls', 'nc', 'sleep', 'head', 'tail', 'yes', 'dd', 'mkdir', 'touch', 'id', 'cp', 'rm',
  'wc', 'ip', 'true', 'false', 'test', 'seq', 'sed', 'grep', 'env', 'ps', 'kill',
];

export async function dockerAvailable(): Promise<{ok: true} | {ok: false; reason: string}> {
  return new DockerRunner({}).available();
}

/** Returns the image tag, importing it from the host's busybox when missing. */
export async function ensureBusyboxImage(docker: Dockerode, image = BUSYBOX_IMAGE): Promise<string> {
  const [repo, tag = 'latest'] = image.split(':');
  try {
    await docker.getImage(image).inspect();
    return image;
  } catch {
    // missing: build it below
  }
  const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p));
  if (!busybox) throw new Error('no busybox on this host (install busybox-static)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-busybox-'));
  try {
    const root = path.join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'work']) fs.mkdirSync(path.join(root, d), {recursive: true});
    // As in any rootfs: docker gives the /tmp tmpfs the mode of the directory it covers.
    fs.chmodSync(path.join(root, 'tmp'), 0o1777);
    fs.copyFileSync(busybox, path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    for (const a of APPLETS) fs.symlinkSync('busybox', path.join(root, 'bin', a));
    const tarPath = path.join(dir, 'rootfs.tar');
    execFileSync('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', tarPath, '.']);
    const progress = await docker.importImage(fs.createReadStream(tarPath), {repo, tag});
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(progress, (err: Error | null) => (err ? reject(err) : resolve()));
    });
    await docker.getImage(image).inspect();
    return image;
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}
