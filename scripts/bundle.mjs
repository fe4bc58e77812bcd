// Bundles every Lambda handler in lib/runtime/<name>/index.ts into assets/<name>/index.js, and the
// put-media CLI in lib/cli/index.ts into assets/cli/index.js, with esbuild, so that a user of the
// published package synthesizes without esbuild or Docker.
// Usage: node scripts/bundle.mjs [--quiet] [--if-changed] [name ...]   (names: only those bundles)
// --if-changed skips a bundle whose inputs (every file esbuild read, and the build options) have the
// same content as when it was last built: a warm `cdk synth` then bundles nothing.
// Each bundle is written to a temporary folder and renamed into place, so a test reading
// assets/<name>/ never sees it half-written.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { handlerBuildOptions } from './esbuild-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runtime = join(root, 'lib', 'runtime');
const quiet = process.argv.includes('--quiet');
const ifChanged = process.argv.includes('--if-changed');
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
// stamps live outside assets/, so that they are neither in a Lambda asset nor in the package
const stamps = join(root, 'node_modules', '.cache', 'face-stream-pipeline-bundles');
const optionsHash = createHash('sha256')
  .update(readFileSync(join(root, 'scripts', 'esbuild-options.mjs')))
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .digest('hex');

/** sha256 of each input file, and of the build options: what a bundle was built from. */
function fingerprint(inputs) {
  const files = {};
  for (const file of inputs) {
    files[file] = existsSync(join(root, file)) ? createHash('sha256').update(readFileSync(join(root, file))).digest('hex') : 'missing';
  }
  return { options: optionsHash, files };
}

function upToDate(name, outdir, entry) {
  const stampFile = join(stamps, `${name}.json`);
  if (!existsSync(stampFile) || !existsSync(join(outdir, 'index.js'))) {
    return false;
  }
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  if (stamp.entry !== entry) {
    return false;
  }
  // a bundle of several files (the CLI, the consumer) is up to date only with all of them
  if ((stamp.outputs ?? []).some((file) => !existsSync(join(outdir, file)))) {
    return false;
  }
  const now = fingerprint(Object.keys(stamp.files));
  return now.options === stamp.options && Object.entries(stamp.files).every(([file, hash]) => now.files[file] === hash);
}

const entries = readdirSync(runtime)
  .filter((name) => existsSync(join(runtime, name, 'index.ts')))
  .map((name) => ({ name, entry: join(runtime, name, 'index.ts') }));
if (existsSync(join(root, 'lib', 'cli', 'index.ts'))) {
  entries.push({ name: 'cli', entry: join(root, 'lib', 'cli', 'index.ts') });
}
for (const { name, entry } of entries.filter((e) => wanted.length === 0 || wanted.includes(e.name))) {
  const outdir = join(root, 'assets', name);
  if (ifChanged && upToDate(name, outdir, entry)) {
    continue;
  }
  const tmpdir = `${outdir}.tmp-${process.pid}`;
  rmSync(tmpdir, { recursive: true, force: true });
  // The CLI is four files: index.js uploads with no SDK code at all; shared-config.js (the SDK's
  // readers of the shared config files, and its partitions table) and sdk.js (the credential chain,
  // `follow`) load only when the environment alone does not settle what they read (shared-config.js
  // also for the partitions table when no endpoint is configured); enrol.js (the enrol command, with
  // its own copy of the small signing and settings code) loads for enrol only; so that a run does
  // not parse code it never runs.
  // The consumer is two files: index.js, and snapshots.js (GetImages, JPEG and S3: the snapshots of
  // stream-processor sightings), which it loads only with snapshots on, so that a consumer without
  // them does not pay for that code at a cold start.
  const files =
    name === 'cli'
      ? {
          entryPoints: {
            index: entry,
            sdk: join(root, 'lib', 'cli', 'sdk.ts'),
            'shared-config': join(root, 'lib', 'cli', 'shared-config.ts'),
            enrol: join(root, 'lib', 'cli', 'enrol.ts'),
          },
          outdir: tmpdir,
          external: ['./sdk', './shared-config', './enrol'],
        }
      : name === 'face-consumer'
        ? { entryPoints: { index: entry, snapshots: join(runtime, name, 'snapshots.ts') }, outdir: tmpdir, external: ['./snapshots'] }
        : { entryPoints: [entry], outfile: join(tmpdir, 'index.js') };
  const result = await build({ ...files, metafile: true, ...handlerBuildOptions });
  // esbuild names inputs relative to the working directory; the stamp keeps them relative to the root
  const inputs = Object.keys(result.metafile.inputs).map((file) => (file.startsWith('/') ? file.slice(root.length + 1) : join(process.cwd(), file).slice(root.length + 1)));
  const stamp = JSON.stringify({ entry, outputs: readdirSync(tmpdir).sort(), ...fingerprint(inputs) });
  if (name === 'cli') {
    chmodSync(join(tmpdir, 'index.js'), 0o755); // the package's bin
  }
  const old = `${outdir}.old-${process.pid}`;
  if (existsSync(outdir)) {
    renameSync(outdir, old);
  }
  renameSync(tmpdir, outdir);
  rmSync(old, { recursive: true, force: true });
  mkdirSync(stamps, { recursive: true });
  writeFileSync(join(stamps, `${name}.json`), stamp);
  if (!quiet) {
    const size = statSync(join(outdir, 'index.js')).size;
    console.error(`bundled assets/${name}/index.js (${(size / 1024).toFixed(1)} KiB)`);
  }
}
