// Start-up shortcuts for bin/run.js; behaviour is oclif's own, only sooner. Shared with the fleet
// bench's start-up anatomy (bench/fleet-startup.ts), so it measures what the CLI does.
import * as fs from 'node:fs';
import {createRequire} from 'node:module';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = path.join(ROOT, 'dist', '.oclif-manifest-cache.json');

/**
 * import('@oclif/core') without its import-time check of Node against oclif's own engines (>=18), which
 * loads semver (~15-20 ms of every start-up); package.json's engines (>=20) is stricter. The variable is
 * set for this import only, so children never inherit it.
 */
export async function importOclif() {
  const skip = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined;
  if (skip) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
  try {
    return await import('@oclif/core');
  } finally {
    if (skip) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
  }
}

/** Size and mtime of package.json and every module under dist/src: a build rewrites them all. */
function buildKey() {
  const files = [path.join(ROOT, 'package.json')];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) files.push(p);
    }
  };
  walk(path.join(ROOT, 'dist', 'src'));
  const oclif = createRequire(import.meta.url)('@oclif/core/package.json').version;
  return [`@oclif/core ${oclif}`, ...files.map((p) => {
    const s = fs.statSync(p);
    return `${path.relative(ROOT, p)} ${s.size} ${s.mtimeMs}`;
  })].join('\n');
}

/**
 * With no oclif.manifest.json, oclif imports every command module on every run just to know the
 * commands (~50-100 ms of each start-up). This keeps the manifest oclif builds for this package in
 * dist/.oclif-manifest-cache.json, keyed by buildKey(), and hands it back while the key holds. A real
 * oclif.manifest.json, any other plugin, and a manifest missing a command (one that failed to load keeps
 * being reported on every run) go oclif's own way. Writes are atomic; a read-only install runs uncached.
 */
export function cacheRootManifest(Plugin) {
  const build = Plugin.prototype._manifest;
  if (typeof build !== 'function') return; // a different oclif: leave it alone
  Plugin.prototype._manifest = async function manifest() {
    if (!this.isRoot || path.resolve(this.root) !== path.resolve(ROOT) || this.options?.ignoreManifest || fs.existsSync(path.join(ROOT, 'oclif.manifest.json')))
      return build.call(this);
    let key;
    let cached;
    try {
      key = `${this.name} ${this.version}\n${buildKey()}`;
      cached = JSON.parse(fs.readFileSync(CACHE, 'utf8'));
    } catch {
      // no cache yet, or not this package's layout (no dist/src)
    }
    if (key !== undefined && cached?.key === key && cached.manifest?.commands) {
      this.hasManifest = true;
      this.commandIDs = Object.keys(cached.manifest.commands);
      return cached.manifest;
    }
    const fresh = await build.call(this);
    if (key !== undefined && Object.keys(fresh.commands).length === this.commandIDs?.length) {
      const tmp = `${CACHE}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, JSON.stringify({key, manifest: fresh}));
        fs.renameSync(tmp, CACHE);
      } catch {
        fs.rmSync(tmp, {force: true});
      }
    }
    return fresh;
  };
}
