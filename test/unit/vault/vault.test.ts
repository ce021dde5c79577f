import * as V from '../../../src/core/vault/vault.js';
import type {VaultDocument} from '../../../src/core/vault/vault-document.js';
import {parseVault} from '../../../src/core/vault/vault-document.js';

const PASS = 'correct horse battery staple';
const now = new Date('2026-11-25T00:00:00Z');
const clone = (d: VaultDocument): VaultDocument => JSON.parse(JSON.stringify(d)) as VaultDocument;

async function vaultWith(entries: Record<string, string>): Promise<{doc: VaultDocument; keys: V.Unlocked}> {
  const created = await V.createVault(PASS, {hint: 'the horse one'});
  let doc = created.doc;
  for (const [n, v] of Object.entries(entries)) doc = V.set(doc, created.keys, n, v, now);
  return {doc, keys: created.keys};
}

describe('vault', () => {
  test('scrypt at least N=2^15, r=8, p=1 is stored with the vault; values round-trip; list shows no values', async () => {
    const {doc, keys} = await vaultWith({openai: 'sk-one-1234', 'github/token': 'ghp-two-5678'});
    expect(doc.kdf).toMatchObject({alg: 'scrypt', N: 2 ** 15, r: 8, p: 1});
    expect(V.get(doc, keys, 'openai')).toBe('sk-one-1234');
    expect(JSON.stringify(V.list(doc))).not.toContain('sk-one');
    expect(JSON.stringify(doc)).not.toContain('sk-one');
    const again = await V.unlock(parseVault(JSON.stringify(doc), 'test'), PASS);
    expect(V.get(doc, again, 'github/token')).toBe('ghp-two-5678');
  });

  test('a wrong passphrase is refused (exit 5) and says the hint', async () => {
    const {doc} = await vaultWith({a: 'value-1234'});
    await expect(V.unlock(doc, 'not the passphrase')).rejects.toMatchObject({exitCode: 5, message: expect.stringContaining('the horse one')});
  });

  test('a tampered ciphertext is detected', async () => {
    const {doc} = await vaultWith({a: 'value-1234'});
    const bad = clone(doc);
    const ct = Buffer.from(bad.entries.a!.sealed.ct, 'base64');
    ct[0]! ^= 1;
    bad.entries.a!.sealed.ct = ct.toString('base64');
    await expect(V.unlock(bad, PASS)).rejects.toBeInstanceOf(V.VaultIntegrityError);
  });

  test('swapped entries are detected (name in the associated data, and the index MAC)', async () => {
    const {doc} = await vaultWith({a: 'value-aaaa', b: 'value-bbbb'});
    const bad = clone(doc);
    [bad.entries.a, bad.entries.b] = [bad.entries.b!, bad.entries.a!];
    await expect(V.unlock(bad, PASS)).rejects.toThrow(/does not verify/);
  });

  test('an entry rolled back to an older version (with its metadata) is detected', async () => {
    const {doc, keys} = await vaultWith({a: 'old-value-1'});
    const newer = V.set(doc, keys, 'a', 'new-value-2', now);
    const rolled = clone(newer);
    rolled.entries.a = clone(doc).entries.a!;
    await expect(V.unlock(rolled, PASS)).rejects.toThrow(/index does not verify/);
    // A removed entry cannot come back either.
    const removed = V.remove(newer, keys, 'a');
    const revived = clone(removed);
    revived.entries.a = clone(newer).entries.a!;
    await expect(V.unlock(revived, PASS)).rejects.toThrow(/index does not verify/);
    expect(V.set(removed, keys, 'a', 'again-3333', now).entries.a!.version).toBe(3);
  });

  test('rotate: a new data key, every entry re-sealed, the same passphrase opens it; the old key does not', async () => {
    const {doc, keys} = await vaultWith({a: 'value-aaaa', b: 'value-bbbb'});
    const r = V.rotate(doc, keys);
    expect(r.doc.generation).toBe(doc.generation + 1);
    expect(r.keys.dataKey.equals(keys.dataKey)).toBe(false);
    const k = await V.unlock(r.doc, PASS);
    expect([V.get(r.doc, k, 'a'), V.get(r.doc, k, 'b')]).toEqual(['value-aaaa', 'value-bbbb']);
    expect(() => V.verify(r.doc, keys.dataKey)).toThrow();
  });

  test('malformed documents and weak parameters are refused with what is wrong', () => {
    expect(() => parseVault('nope', 'f')).toThrow(/not JSON/);
    expect(() => parseVault(JSON.stringify({format: 'swarm-vault/1', kdf: {alg: 'scrypt', N: 1024, r: 8, p: 1, salt: 'x'}}), 'f')).toThrow(/kdf/);
  });
});
