// Bundles every Lambda handler in lib/runtime/<name>/index.ts into assets/<name>/index.js, and the
// put-media CLI in lib/cli/index.ts into assets/cli/index.js, with esbuild, so that a user of the
// published package synthesizes without esbuild or Docker.
// Usage: node scripts/bundle.mjs [--quiet] [name ...]   (names: only those bundles)
// Each bundle is written to a temporary folder and renamed into place, so a test reading
// assets/<name>/ never sees it half-written.
import { build } from 'esbuild';
import { chmodSync, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlerBuildOptions } from './esbuild-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runtime = join(root, 'lib', 'runtime');
const quiet = process.argv.includes('--quiet');
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));

const entries = readdirSync(runtime)
  .filter((name) => existsSync(join(runtime, name, 'index.ts')))
  .map((name) => ({ name, entry: join(runtime, name, 'index.ts') }));
if (existsSync(join(root, 'lib', 'cli', 'index.ts'))) {
  entries.push({ name: 'cli', entry: join(root, 'lib', 'cli', 'index.ts') });
}
for (const { name, entry } of entries.filter((e) => wanted.length === 0 || wanted.includes(e.name))) {
  const outdir = join(root, 'assets', name);
  const tmpdir = `${outdir}.tmp-${process.pid}`;
  rmSync(tmpdir, { recursive: true, force: true });
  await build({ entryPoints: [entry], outfile: join(tmpdir, 'index.js'), ...handlerBuildOptions });
  if (name === 'cli') {
    chmodSync(join(tmpdir, 'index.js'), 0o755); // the package's bin
  }
  const old = `${outdir}.old-${process.pid}`;
  if (existsSync(outdir)) {
    renameSync(outdir, old);
  }
  renameSync(tmpdir, outdir);
  rmSync(old, { recursive: true, force: true });
  if (!quiet) {
    const size = statSync(join(outdir, 'index.js')).size;
    console.error(`bundled assets/${name}/index.js (${(size / 1024).toFixed(1)} KiB)`);
  }
}
