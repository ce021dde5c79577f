import {Redactor, REDACTED, StreamRedactor} from '../../src/core/log/redactor.js';
import {createLogger} from '../../src/core/log/logger.js';

const SECRET = 'sk-live-4f9a1c2b7d4e8f00';

describe('redactor', () => {
  const r = new Redactor();
  r.add(SECRET);

  test.each([
    ['plain', (s: string) => `token=${s};`],
    ['base64', (s: string) => Buffer.from(s).toString('base64')],
    ['base64url', (s: string) => Buffer.from(s).toString('base64url')],
    ['base64 inside a longer blob, every alignment', (s: string) => Buffer.from(`x${s}yz`).toString('base64') + Buffer.from(`ab${s}`).toString('base64')],
    ['hex', (s: string) => Buffer.from(s).toString('hex')],
    ['HEX', (s: string) => Buffer.from(s).toString('hex').toUpperCase()],
    ['url-encoded', (s: string) => `https://x.test/?k=${encodeURIComponent(s + '/&')}`],
  ])('%s form is replaced', (name, form) => {
    const text = form(SECRET);
    const out = r.redact(text);
    expect(out.split(REDACTED).length - 1).toBeGreaterThanOrEqual(name.includes('every alignment') ? 2 : 1);
    // Nothing of the value's recognisable forms is left.
    for (const f of [SECRET, Buffer.from(SECRET).toString('hex')]) expect(out).not.toContain(f);
  });

  test('a stream split inside the secret is still redacted', () => {
    const s = new StreamRedactor(r);
    const text = `before ${SECRET} after\n`;
    let out = '';
    for (let i = 0; i < text.length; i += 3) out += s.push(Buffer.from(text.slice(i, i + 3)));
    out += s.end();
    expect(out).toBe(`before ${REDACTED} after\n`);
  });

  test('the logger redacts messages, fields, nested fields and arrays', () => {
    const lines: string[] = [];
    const log = createLogger({write: (l) => lines.push(l)}, {secrets: r});
    log.info(`msg ${SECRET}`, {a: SECRET, nested: {b: `x${SECRET}`}, list: [SECRET], password: 'hunter2'});
    expect(lines.join('')).not.toContain(SECRET);
    expect(lines.join('')).not.toContain('hunter2');
  });

  test('short values are not registered (they would redact ordinary text)', () => {
    const q = new Redactor();
    q.add('abc');
    expect(q.redact('abc')).toBe('abc');
  });
});
