#!/usr/bin/env node
// Builds the Python, Java and Go packages from the compiled library (run `npm run build` first) with
// jsii-pacmak, into dist/<target>/:
//
//   node scripts/pacmak.mjs [python] [java] [go]     (`npm run package:languages`; default: all three)
//
//   dist/python/   the wheel and the sdist (PyPI: cdk-face-stream-pipeline)
//   dist/java/     a Maven repository layout with the jar (Maven Central: io.github.face-stream-pipeline:cdk-face-stream-pipeline)
//   dist/go/       the Go module's source (github.com/face-stream-pipeline/cdk-face-stream-pipeline-go)
//
// .NET is not built: NuGet is not reachable from this project's machines, so `npm test` checks only
// its generated code (test/package.test.ts).
//
// A build takes a minute or more (pacmak packs the library, then each toolchain packages it), so what it
// built is kept in ~/.cache/cdk-face-stream-pipeline/pacmak/<key>/<target>, where the key is the npm
// tarball's integrity (the bytes pacmak embeds in every package: .jsii, lib/, assets/) with pacmak's
// version: an unchanged library is copied from there, a changed one or a new machine builds.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['python', 'java', 'go'];
const targets = process.argv.slice(2).length ? process.argv.slice(2) : TARGETS;
for (const t of targets) {
  if (!TARGETS.includes(t)) {
    console.error(`pacmak: unknown target "${t}"; one of ${TARGETS.join(', ')}`);
    process.exit(2);
  }
}
if (!existsSync(path.join(root, '.jsii'))) {
  console.error('pacmak: no .jsii: run `npm run build` first');
  process.exit(1);
}

const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
const pacmakVersion = JSON.parse(readFileSync(path.join(root, 'node_modules', 'jsii-pacmak', 'package.json'), 'utf8')).version;
const key = createHash('sha256').update(`${packed.integrity}\njsii-pacmak@${pacmakVersion}`).digest('hex').slice(0, 32);
const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'cdk-face-stream-pipeline', 'pacmak');
const cached = (t) => path.join(cacheRoot, key, t);

const missing = targets.filter((t) => !existsSync(cached(t)));
if (missing.length) {
  mkdirSync(cacheRoot, { recursive: true });
  const out = mkdtempSync(path.join(cacheRoot, `.build-${key}-`));
  try {
    const started = Date.now();
    execFileSync(
      path.join(root, 'node_modules', '.bin', 'jsii-pacmak'),
      // the library is built already: pack it as it is (npm pack would run prepack, a second build)
      ['--targets', ...missing, '--outdir', out, '--pack-command', 'npm pack --ignore-scripts', '--no-npmignore'],
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '1' } },
    );
    for (const t of missing) {
      mkdirSync(path.dirname(cached(t)), { recursive: true });
      try {
        renameSync(path.join(out, t), cached(t)); // atomic: a concurrent build of the same key loses nothing
      } catch (e) {
        if (!existsSync(cached(t))) throw e;
      }
    }
    console.error(`pacmak: built ${missing.join(', ')} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
for (const t of targets) {
  const dest = path.join(root, 'dist', t);
  rmSync(dest, { recursive: true, force: true });
  cpSync(cached(t), dest, { recursive: true });
  console.log(dest);
}
