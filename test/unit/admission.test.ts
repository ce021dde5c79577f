import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {buildAdmission, createJoinSecretFile, isAdmitted, pskFromJoinSecret, readTrustList} from '../../src/core/security/admission.js';
import {readSecretFile} from '../../src/core/config/secure-file.js';
import {UsageError} from '../../src/core/errors.js';
import {generateIdentity, idOf, loadOrCreateIdentity, verifySignature} from '../../src/core/security/identity.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-adm-'));
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}));

describe('identity', () => {
  test('is created 0600 on first load and stable after', () => {
    const file = path.join(tmp, 'id.key');
    const a = loadOrCreateIdentity(file);
    expect(a.created).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const b = loadOrCreateIdentity(file);
    expect(b.created).toBe(false);
    expect(b.identity.id).toBe(a.identity.id);
    expect(a.identity.id).toBe(idOf(a.identity.publicKey));
    expect(a.identity.id).toMatch(/^[0-9a-f]{32}$/);
    expect(a.identity.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  test('signatures verify, and fail for other data, keys or garbage', () => {
    const id = generateIdentity();
    const sig = id.sign(Buffer.from('hello'));
    expect(verifySignature(id.publicKey, Buffer.from('hello'), sig)).toBe(true);
    expect(verifySignature(id.publicKey, Buffer.from('hellO'), sig)).toBe(false);
    expect(verifySignature(generateIdentity().publicKey, Buffer.from('hello'), sig)).toBe(false);
    expect(verifySignature(Buffer.alloc(3), Buffer.from('hello'), sig)).toBe(false);
    expect(verifySignature(id.publicKey, Buffer.from('hello'), Buffer.alloc(64))).toBe(false);
  });

  test('a corrupt key file is a usage error, not a crash', () => {
    const file = path.join(tmp, 'bad.key');
    fs.writeFileSync(file, 'garbage', {mode: 0o600});
    expect(() => loadOrCreateIdentity(file)).toThrow(UsageError);
  });
});

describe('admission', () => {
  test('join secret file is created 0600, never overwritten without force, and gives a stable 32-byte PSK', () => {
    const file = path.join(tmp, 'join.secret');
    createJoinSecretFile(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(() => createJoinSecretFile(file)).toThrow(UsageError);
    const a = buildAdmission({joinSecretFile: file});
    expect(a.psk).toHaveLength(32);
    expect(a.psk.equals(buildAdmission({joinSecretFile: file}).psk)).toBe(true);
    createJoinSecretFile(file, true);
    expect(buildAdmission({joinSecretFile: file}).psk.equals(a.psk)).toBe(false);
  });

  test('a secret file readable by others is refused with the chmod to run', () => {
    const file = path.join(tmp, 'open.secret');
    fs.writeFileSync(file, 'x'.repeat(32), {mode: 0o644});
    fs.chmodSync(file, 0o644);
    expect(() => readSecretFile(file, '--join-secret-file')).toThrow(/chmod 600/);
  });

  test('a too-short secret is refused; whitespace around it is ignored', () => {
    expect(() => pskFromJoinSecret(Buffer.from('short'))).toThrow(UsageError);
    expect(pskFromJoinSecret(Buffer.from('  0123456789abcdef0123\n')).equals(pskFromJoinSecret(Buffer.from('0123456789abcdef0123')))).toBe(true);
  });

  test('no admission at all is a usage error', () => {
    expect(() => buildAdmission({})).toThrow(/join-secret-file/);
  });

  test('trust list admits listed keys only, and names a bad line', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const file = path.join(tmp, 'trust');
    fs.writeFileSync(file, `# operators\n${a.publicKey.toString('hex')}\n\n${b.publicKey.toString('base64')}  # base64 works too\n`);
    const policy = buildAdmission({trustFile: file});
    expect(policy.psk.equals(Buffer.alloc(32))).toBe(true);
    expect(isAdmitted(policy, a.publicKey)).toBe(true);
    expect(isAdmitted(policy, b.publicKey)).toBe(true);
    expect(isAdmitted(policy, generateIdentity().publicKey)).toBe(false);
    fs.writeFileSync(file, `${a.publicKey.toString('hex')}\nnot-a-key\n`);
    expect(() => readTrustList(file)).toThrow(/line 2/);
  });
});
