// Bundles every Lambda handler in lib/runtime/<name>/index.ts into assets/<name>/index.js with
// esbuild, so that a user of the published package synthesizes without esbuild or Docker.
// Usage: node scripts/bundle.mjs [--quiet]
import { build } from 'esbuild';
import { chmodSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlerBuildOptions } from './esbuild-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runtime = join(root, 'lib', 'runtime');
const quiet = process.argv.includes('--quiet');

const handlers = readdirSync(runtime).filter((name) => existsSync(join(runtime, name, 'index.ts')));
for (const name of handlers) {
  const outdir = join(root, 'assets', name);
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [join(runtime, name, 'index.ts')],
    outfile: join(outdir, 'index.js'),
    ...handlerBuildOptions,
  });
  if (name === 'cli') {
    chmodSync(join(outdir, 'index.js'), 0o755); // the package's bin
  }
  if (!quiet) {
    const size = statSync(join(outdir, 'index.js')).size;
    console.error(`bundled assets/${name}/index.js (${(size / 1024).toFixed(1)} KiB)`);
  }
}
