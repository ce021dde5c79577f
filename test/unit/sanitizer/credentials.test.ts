import {acting, fake, scan} from './helpers.js';

const pem = (kind: string): string => `-----BEGIN ${kind}-----\n${fake(64)}\n${fake(64)}\n${fake(20)}==\n-----END ${kind}-----`;

describe('credentials', () => {
  const cases: [string, string, string][] = [
    ['aws key id', `aws_access_key_id = AKIA${fake(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, 'credential.aws-access-key'],
    ['aws secret', `aws_secret_access_key = ${fake(40)}`, 'credential.aws-secret-key'],
    ['github', `token: ghp_${fake(36)}`, 'credential.github-token'],
    ['gitlab', `glpat-${fake(20)}`, 'credential.gitlab-token'],
    ['slack', `xoxb-12345678901-1234567890123-${fake(24)}`, 'credential.slack-token'],
    ['stripe', `sk_live_${fake(24)}`, 'credential.stripe-key'],
    ['openai', `OPENAI_API_KEY=sk-proj-${fake(40)}9Z`, 'credential.openai-key'],
    ['google', `key: AIza${fake(35)}`, 'credential.google-api-key'],
    ['private key', pem('OPENSSH PRIVATE KEY'), 'credential.private-key'],
    ['postgres url', `postgres://app:${fake(12)}!9@db.internal:5432/app`, 'credential.connection-string'],
    ['basic auth', `Authorization: Basic ${Buffer.from('admin:' + fake(12)).toString('base64')}`, 'credential.basic-auth'],
    ['yaml password', `db:\n  password: "${fake(10)}#4x"`, 'credential.assignment'],
  ];

  test.each(cases)('%s is redacted', (_name, text, rule) => {
    const r = scan(text);
    expect(r.verdict).toBe('redact');
    expect(acting(r)).toContain(rule);
    const f = r.findings.find((x) => x.rule === rule)!;
    expect(r.redacted).toContain(`[REDACTED:${rule.replace('credential.', '')}]`);
    expect(r.redacted).not.toContain(text.slice(f.span.start, f.span.end));
  });

  test('a JWT must have a JSON header with alg', () => {
    const b = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(acting(scan(`Bearer ${b({alg: 'HS256', typ: 'JWT'})}.${b({sub: '42', name: 'svc'})}.${fake(43)}`))).toContain('credential.jwt');
    expect(scan(`eyJub3QiOiJqd3QifQ.eyJhIjoiYmJiYmJiYiJ9.${fake(43)}`).verdict).toBe('allow');
  });

  test.each([
    ['AWS documentation examples', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['repeated-character placeholders', 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx and AKIAXXXXXXXXXXXXXXXX'],
    ['template placeholders', 'postgres://user:password@localhost/db and mongodb://<username>:<password>@host/x'],
    ['variable references', 'password: ${DB_PASSWORD}\ntoken = os.getenv("GITHUB_TOKEN")\napi_key: "{{ .Values.key }}"'],
    ['a key header in prose', 'A key file starts with -----BEGIN OPENSSH PRIVATE KEY----- and is mode 0600.'],
    ['public material', `-----BEGIN CERTIFICATE-----\n${fake(64)}\n-----END CERTIFICATE-----`],
    ['secret-ish names without secrets', 'password_min_length = 12, token_count: 1532, api_key_name = "billing-service"'],
    ['the key id inside a presigned S3 URL', `https://b.s3.amazonaws.com/x.png?X-Amz-Credential=AKIA${fake(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}%2F20240502&X-Amz-Signature=${'ab'.repeat(32)}`],
  ])('%s are left alone', (_name, text) => {
    expect(scan(text).verdict).toBe('allow');
  });

  test('documentation examples are reported as info', () => {
    const r = scan('AKIAIOSFODNN7EXAMPLE');
    expect(r.findings).toEqual([expect.objectContaining({rule: 'credential.aws-access-key', action: 'allow', severity: 'info'})]);
  });

  test('a token used as auth for its own host is redacted, not blocked', () => {
    const tok = `ghp_${fake(36)}`;
    expect(scan(`curl -H "Authorization: token ${tok}" https://api.github.com/user`, {direction: 'input'}).verdict).toBe('redact');
    expect(scan(`git remote -v\norigin https://x-access-token:${tok}@github.com/acme/api.git`).verdict).toBe('redact');
  });
});
