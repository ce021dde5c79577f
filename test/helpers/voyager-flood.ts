/**
 * Child process for the transport's stop-under-load test (dist/test/helpers/voyager-flood.js):
 *
 *   node voyager-flood.js <rounds>
 *
 * Each round starts a listening Voyager, links four clients to it, has them flood it with sends (so
 * its receive loop is busy reading throughout) and stops it mid-flood. A libzmq socket touched from
 * two threads at once aborts the whole process, which is why this runs in a child: the test sees an
 * exit code and a signal instead of losing its jest worker. Prints one JSON line and exits 0.
 */
import {pskFromJoinSecret} from '../../src/core/security/admission.js';
import {Firewall} from '../../src/core/security/firewall.js';
import {generateIdentity} from '../../src/core/security/identity.js';
import {nullLogger} from '../../src/core/log/logger.js';
import {Voyager} from '../../src/core/transport/voyager.js';
import type {VoyagerInit} from '../../src/core/transport/voyager.js';

const psk = pskFromJoinSecret(Buffer.from('voyager-flood-secret-0123456789'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function endpoint(init: Partial<VoyagerInit> = {}): Voyager {
  let v: Voyager | undefined;
  const firewall = new Firewall({clock: Date.now, sink: {audit: () => {}}}, {knownType: (t) => v?.hasHandler(t) ?? false});
  v = new Voyager(
    {identity: generateIdentity(), admission: {psk, hasJoinSecret: true}, firewall, log: nullLogger},
    {role: 'node', name: 'flood', tickMs: 50, handshakeTimeoutMs: 2000, ...init},
  );
  v.handle('test.echo', (env) => env.body);
  return v;
}

async function round(): Promise<number> {
  const server = endpoint({bind: {host: '127.0.0.1', port: 0}});
  await server.start();
  const clients = [endpoint(), endpoint(), endpoint(), endpoint()];
  for (const c of clients) {
    await c.start();
    c.connect(server.listen);
  }
  const peers = await Promise.all(clients.map((c) => c.waitForLink(server.listen, {timeoutMs: 5000})));
  let flooding = true;
  let sent = 0;
  const floods = clients.map(async (c, i) => {
    while (flooding) {
      for (let k = 0; k < 20; k++) if (c.send(peers[i]!.id, 'test.echo', k)) sent++;
      await sleep(0);
    }
  });
  await sleep(30);
  await server.stop();
  flooding = false;
  await Promise.all(floods);
  await Promise.all(clients.map((c) => c.stop()));
  return sent;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? '50');
  let sent = 0;
  const t0 = Date.now();
  for (let r = 0; r < rounds; r++) sent += await round();
  process.stdout.write(`${JSON.stringify({ok: true, rounds, sent, ms: Date.now() - t0})}\n`);
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({error: e instanceof Error ? e.message : String(e)})}\n`);
  process.exitCode = 1;
});
