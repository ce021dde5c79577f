import {phraseCues} from './cue.js';
import type {Cue, PhraseRule} from './cue.js';
import {decodeToken} from './decode.js';
import {AUTH_PARAM, findUrls, urlsWithin} from './hosts.js';
import type {HostMatcher, UrlRef} from './hosts.js';

/**
 * Exfiltration: commands that ship sensitive data to an outside host (source → sink → destination on
 * one command line), reverse shells, DNS lookups built from command output, URLs that carry encoded
 * data or fill-in placeholders in auto-loading images, and instructions in words to send secrets away.
 * Credentials and vault values inside outside URLs are handled where they are found (scan.ts).
 */

const SINK =
  /\b(?:curl|wget|ncat|netcat|socat|telnet|scp|sftp|rsync|tftp|mailx?|sendmail|mutt|Invoke-WebRequest|Invoke-RestMethod|iwr|irm)\b|(?:^|[\s|;&(])nc\s|\|\s*ssh\b|\brequests\.(?:post|put|patch|get)\b|\burlopen\b|\burllib\.request\b|\bhttpx\.\w+|\bfetch\s*\(|\baxios(?:\.\w+)?\s*\(|\bsendBeacon\b|\bXMLHttpRequest\b|\bNet\.WebClient\b|\/dev\/(?:tcp|udp)\/|\.connect\(\(|\brequire\(\s*['"]https?['"]\s*\)|\bhttps?\.(?:request|get)\s*\(/i;

/** Where secrets live, by kind: key files and credential stores, the environment and cookies, secret-named variables. */
const SOURCES: {kind: string; re: RegExp; authExempt?: boolean}[] = [
  {
    kind: 'a credential or key file',
    re: new RegExp(
      [
        String.raw`(?:^|[\s"'=:@(~/\\])\.(?:ssh\b(?:[\\/][\w.*-]*)?|aws\b(?:[\\/](?:credentials|config))?|config[\\/](?:gcloud|gh)\b[\w.\\/-]*|azure\b|terraform\.d[\\/]credentials|pgpass|my\.cnf|netrc|git-credentials|docker[\\/]config\.json|kube[\\/]config|npmrc|pypirc|gnupg\b|bash_history|zsh_history|vault-token|env(?:\.[\w-]+)?(?![\w.]))`,
        String.raw`\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)|\bapplication_default_credentials\.json\b|\bgh[\\/]hosts\.ya?ml\b`,
        String.raw`\/etc\/(?:shadow|passwd|sudoers|ssl\/private)\b|\bjoin\.secret\b|\bnode\.key\b|\.(?:pem|p12|pfx)\b`,
      ].join('|'),
    ),
  },
  {
    kind: 'the environment or cookies',
    re: /\/proc\/(?:self|\d+)\/environ\b|\bprintenv\b|\bos\.environ\b|\bprocess\.env\b(?!\.)|\bdocument\.cookie\b|\blocalStorage\b|\bGet-ChildItem\s+env:|(?:^|[|;&(]\s*|\$\(\s*)(?:env|set|history)\s*(?=[|;)]|$)/,
  },
  {kind: 'a secret-named variable', re: /\$\{?[A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)[A-Z0-9_]*\}?/g, authExempt: true},
];

/** A secret variable written where it authenticates to the host it goes to (-u, Authorization:, ?api_key=). */
const AUTH_CONTEXT = /(?:(?:-u|--user)[=\s]*["']?(?:[^\s"':]*:)?|authorization:\s*(?:bearer|token|basic)?\s*|(?:api-key|x-api-key|private-token|x-auth-token)\s*:\s*|[?&](?:key|api[_-]?key|apikey|appid|app[_-]?id|access[_-]?token|token|auth)=)["']?$/i;

const DNS_TOOL = /\b(?:nslookup|dig|host|ping|drill)\b/i;

interface LineRange {
  start: number;
  end: number;
}

/** Command lines, with backslash-continued lines joined. */
function commandLines(text: string): LineRange[] {
  const out: LineRange[] = [];
  let s = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || (text[i] === '\n' && text[i - 1] !== '\\')) {
      if (i > s) out.push({start: s, end: i});
      s = i + 1;
    }
  }
  return out;
}

function outsideHostIn(line: string, urls: readonly UrlRef[], hosts: HostMatcher, offset: number, end: number): boolean {
  if (urlsWithin(urls, offset, end).some((u) => u.outside)) return true;
  const candidates: string[] = [];
  for (const m of line.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\b/g)) candidates.push(m[1]!);
  for (const m of line.matchAll(/(?:TCP4?|UDP4?|OPENSSL):([\w.-]+):\d+|\/dev\/(?:tcp|udp)\/([\w.-]+)\/|@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?=[:\s/'">]|$)/gi)) candidates.push((m[1] ?? m[2] ?? m[3])!);
  for (const m of line.matchAll(/\b(?:host|hostname)['"]?\s*:\s*['"]([\w.-]+)['"]/g)) candidates.push(m[1]!);
  for (const m of line.matchAll(/\b(?:nc|ncat|netcat|telnet)\s+(?:-\w+\s+)*([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b/g)) candidates.push(m[1]!);
  return candidates.some((h) => !hosts.isInternal(h));
}

function sensitiveSource(line: string): string | undefined {
  for (const src of SOURCES) {
    if (!src.authExempt) {
      if (src.re.test(line)) return src.kind;
      continue;
    }
    src.re.lastIndex = 0;
    for (let m = src.re.exec(line); m; m = src.re.exec(line)) if (!AUTH_CONTEXT.test(line.slice(Math.max(0, m.index - 40), m.index))) return src.kind;
  }
  return undefined;
}

/** Structural exfiltration cues per command line. */
function commandCues(text: string, urls: readonly UrlRef[], hosts: HostMatcher): Cue[] {
  const out: Cue[] = [];
  for (const r of commandLines(text)) {
    if (r.end - r.start > 64 * 1024) continue; // not a command line
    const line = text.slice(r.start, r.end);
    const sink = SINK.exec(line);
    if (sink) {
      const reverse = /\/dev\/(?:tcp|udp)\/|\s-e\s+\/bin\/(?:ba)?sh\b|\bmkfifo\b|\bos\.dup2\b|\bpty\.spawn\b/.test(line);
      if (outsideHostIn(line, urls, hosts, r.start, r.end)) {
        if (reverse) {
          out.push(cue('exfiltration.reverse-shell', 4, r, line, 'opens a shell or raw socket to an outside host'));
          continue;
        }
        const src = sensitiveSource(line);
        if (src) {
          out.push(cue('exfiltration.command', 4, r, line, `sends ${src} to an outside host (${sink[0].trim().replace(/[|(\s]/g, '')})`));
          continue;
        }
      }
    }
    const dns = DNS_TOOL.exec(line);
    if (dns) {
      const rest = line.slice(dns.index);
      if (/\$\(|\$\{|`/.test(rest) && /\.[A-Za-z0-9-]+\.[A-Za-z]{2,}\b/.test(rest)) {
        out.push(cue('exfiltration.dns', 4, r, line, 'builds a DNS name from command output: data leaves in the lookup'));
        continue;
      }
    }
    const push = /\bgit\s+remote\s+add\s+(\S+)\s+(\S+).*?\bgit\s+push\s+(\S+)\s+--(?:all|mirror)\b/.exec(line);
    if (push && push[1] === push[3] && urlsWithin(urls, r.start, r.end).some((u) => u.outside)) {
      out.push(cue('exfiltration.repo-push', 3, r, line, 'pushes the whole repository to a newly added outside remote'));
    }
  }
  return out;
}

function cue(rule: string, weight: number, r: LineRange, line: string, reason: string): Cue {
  const lead = line.length - line.trimStart().length;
  return {rule, category: 'exfiltration', weight, span: {start: r.start + lead, end: r.start + line.trimEnd().length}, reason, quotable: false};
}

const PLACEHOLDER_VALUE = /^(?:\{\{?[^{}]{1,60}\}\}?|\[[A-Za-z_ -]{2,40}\]|<[A-Za-z_ -]{2,40}>|%s|\$\{[A-Za-z_]+\})$/;

/** Outside URLs: fill-in placeholders (a template for data), and encoded data in images that load by themselves. */
function urlCues(urls: readonly UrlRef[], text: string): Cue[] {
  const out: Cue[] = [];
  for (const u of urls) {
    if (!u.outside) continue;
    const image = u.markup === 'md-image' || u.markup === 'html-src';
    const parts = [...u.query, ...u.pathSegments];
    const template = parts.find((p) => PLACEHOLDER_VALUE.test(p.value) || PLACEHOLDER_VALUE.test(decodeSafe(p.value)));
    if (template) {
      out.push({rule: 'exfiltration.url-template', category: 'exfiltration', weight: image ? 3 : 2, span: u.span, reason: `${image ? 'auto-loading image' : 'URL'} to an outside host with a fill-in placeholder for data`});
      continue;
    }
    const trailing = u.query.length > 0 && u.query[u.query.length - 1]!.value === '' && text[u.span.end - 1] === '=';
    if (trailing) {
      out.push({rule: 'exfiltration.url-template', category: 'exfiltration', weight: 1, span: u.span, reason: 'URL to an outside host ending in an empty parameter, ready for data', supports: 'exfiltration'});
      continue;
    }
    if (image) {
      const data = parts.find((p) => p.value.length >= 16 && !AUTH_PARAM.test(p.name) && isEncodedData(p.value));
      if (data) out.push({rule: 'exfiltration.image-data', category: 'exfiltration', weight: 4, span: u.span, reason: 'auto-loading image URL carries encoded text to an outside host', quotable: false});
    }
  }
  return out;
}

function decodeSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** base64/hex that decodes to readable text (percent-encoding alone is how URLs spell text, not a hiding place). */
function isEncodedData(v: string): boolean {
  const token = v.replace(/\.(?:png|gif|jpe?g|svg|webp)$/i, '');
  const d = decodeToken(decodeSafe(token), 4096);
  return d !== undefined && d.encoding !== 'url';
}

const SECRET_OBJECT = String.raw`(?:(?:api|access|secret|private|ssh|aws|gpg|pgp|signing)\s+keys?|(?:database|db)\s+(?:dump|backup)|(?:channel|message|chat|conversation|dm)\s+(?:history|logs?)|credentials?|passwords?|passphrases?|secrets|tokens|cookies|env(?:ironment)?\s+var(?:iable)?s|private\s+key|system\s+prompt|(?:full\s+)?conversation|chat\s+(?:history|log)|inbox|session\s+(?:tokens?|cookies?)|\S{0,30}(?:\.aws[\\/]credentials|\.ssh[\\/]\S*|id_rsa|id_ed25519|\.env\b|\.netrc|\.kube[\\/]config|\.docker[\\/]config))`;

export const EXFIL_RULES: readonly PhraseRule[] = [
  {
    rule: 'exfiltration.send-secrets',
    category: 'exfiltration',
    re: new RegExp(String.raw`\b(?:send|forward|upload|post|e-?mail|mail|transmit|exfiltrate|leak|submit)\s+(?:\S{1,40}\s+){0,8}?` + SECRET_OBJECT, 'gi'),
    weight: 2,
    reason: 'asks to send secrets or private data somewhere',
    imperative: true,
  },
  {
    rule: 'exfiltration.send-secrets',
    category: 'exfiltration',
    re: new RegExp(String.raw`\b(?:share|append|include|attach|copy|paste|dump|reply)\s+(?:\S{1,40}\s+){0,8}?` + SECRET_OBJECT, 'gi'),
    weight: 1,
    reason: 'asks to put secrets or private data into a message or URL',
    imperative: true,
  },
  {
    rule: 'exfiltration.send-secrets',
    category: 'exfiltration',
    re: /\b(?:secrets?|credentials?|passwords?|tokens|api\s+keys?|private\s+keys?|ssh\s+keys?)\b[^.\n]{0,60}?\b(?:send|e-?mail|mail|upload|post|forward|transmit|leak)\s+(?:them|it|those|these|this|that)\b/gi,
    weight: 2,
    reason: 'asks to send secrets or private data somewhere',
  },
  {
    rule: 'exfiltration.disclose',
    category: 'exfiltration',
    re: /\b(?:list|print|dump|show|output|reveal|display|echo|tell\s+me|give\s+me|collect|gather|harvest|extract)\s+(?:me\s+)?(?:\S{1,40}\s+){0,4}?(?:(?:environment|env)\s+var(?:iable)?s?|credentials|api\s+(?:keys|tokens?)|tokens|passwords?|secrets?|private\s+keys?|\.env\b)/gi,
    weight: (m) => (/\b(?:all|every|any|stored|your)\b/i.test(m[0]) ? 2 : 1),
    reason: 'asks to disclose secrets or the environment',
    imperative: true,
  },
  {
    rule: 'exfiltration.destination',
    category: 'exfiltration',
    re: /\b(?:this|the\s+following|that|my|our|the)\s+(?:url|link|address|endpoint|webhook|server)\b|\bas\s+a\s+(?:url|query)\s+param(?:eter)?\b|(?<=[\w.+-])@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/gi,
    weight: 1,
    reason: 'names a destination for the data',
  },
];

export function exfiltrationCues(text: string, hosts: HostMatcher): {cues: Cue[]; urls: UrlRef[]} {
  const urls = findUrls(text, hosts);
  const cues = [...commandCues(text, urls, hosts), ...urlCues(urls, text)];
  for (const c of phraseCues(text, EXFIL_RULES)) cues.push(c.rule === 'exfiltration.destination' ? {...c, supports: 'exfiltration', quotable: false} : c);
  for (const u of urls) if (u.outside) cues.push({rule: 'exfiltration.destination', category: 'exfiltration', weight: 1, span: u.span, reason: 'names a destination for the data', supports: 'exfiltration', quotable: false});
  return {cues, urls};
}

const SENSITIVE_PATH = String.raw`(?:~|\$HOME|/home/[\w.-]+|/root|/Users/[\w.-]+)?/?\.(?:ssh/id_\w+|ssh/?|aws/credentials|netrc|git-credentials|docker/config\.json|kube/config|config/(?:gcloud|gh)/\S*|env)\b|/etc/(?:shadow|passwd|sudoers)\b|/proc/(?:self|\d+)/environ\b|\bjoin\.secret\b`;
const READS_SENSITIVE = new RegExp(
  String.raw`(?:\$\(|\x60)[^)\x60\n]{0,200}?(?:` + SENSITIVE_PATH + String.raw`)|@["']?(?:` + SENSITIVE_PATH + String.raw`)|\b(?:cat|type|Get-Content|open\(|readFileSync\(|readFile\()\s*["']?(?:` + SENSITIVE_PATH + String.raw`)|\$\(\s*(?:env|printenv|set)\s*\)|\bprocess\.env\b(?!\.)|\bos\.environ\b(?!\.get|\[)`,
  'i',
);

/** A value that reads a credential file or the environment (for JSON requests whose URL is in another field). */
export function readsSensitive(text: string): boolean {
  return READS_SENSITIVE.test(text);
}
