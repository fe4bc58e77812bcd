/**
 * What Construct Hub and `npm install` get: the packed tarball's contents, the jsii targets'
 * generated code, and an API.md in step with the API. Runs after `npm run build` (npm test builds).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { csharpQuickStartProblems } from './languages/support';

const root = path.join(__dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

test('the tarball holds the compiled library, .jsii, the bundled handlers and the docs, and nothing else', () => {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const files: string[] = packed.files.map((f: { path: string }) => f.path);
  for (const required of [
    'package.json',
    'README.md',
    'API.md',
    'LICENSE',
    '.jsii',
    'lib/index.js',
    'lib/index.d.ts',
    'lib/face-stream-pipeline.js',
    'assets/stream-processor/index.js',
    'assets/face-consumer/index.js',
    'assets/face-consumer/snapshots.js',
    'assets/face-enrollment/index.js',
    'assets/cli/index.js',
    'assets/cli/sdk.js',
    'assets/cli/shared-config.js',
    'assets/cli/enrol.js',
    'events.d.ts',
    'events.js',
    'lib/events.d.ts',
  ]) {
    expect(files).toContain(required);
  }
  const unexpected = files.filter(
    (f) =>
      !/^(package\.json|README\.md|API\.md|LICENSE|\.jsii|events\.js|events\.d\.ts)$/.test(f) &&
      !/^lib\/.*\.(js|d\.ts)$/.test(f) &&
      !/^assets\/([a-z-]+\/index|cli\/(sdk|shared-config|enrol)|face-consumer\/snapshots)\.js(\.LEGAL\.txt)?$/.test(f),
  );
  expect(unexpected).toEqual([]);
  expect(files.some((f) => f.startsWith('lib/runtime/') || f.startsWith('lib/cli/') || f.startsWith('test/') || f.endsWith('.ts') && !f.endsWith('.d.ts') || f.includes('__snapshots__'))).toBe(false);
  // recorded for the release notes; a jump here means something unexpected got in
  expect(packed.size).toBeLessThan(2 * 1024 * 1024);
  console.log(`tarball: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`);
});

test('the package bin is the bundled put-media CLI, executable', () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  expect(pkg.bin).toEqual({ 'cdk-face-stream-pipeline': 'assets/cli/index.js' });
  expect(readFileSync(path.join(root, 'assets', 'cli', 'index.js'), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  expect(statSync(path.join(root, 'assets', 'cli', 'index.js')).mode & 0o111).not.toBe(0);
});

test('jsii-pacmak generates Python, Java, .NET and Go code from the assembly; the Python compiles; the README C# Quick start matches the .NET code', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'pacmak-'));
  try {
    execFileSync(bin('jsii-pacmak'), ['--code-only', '--outdir', out, '--targets', 'python,java,dotnet,go'], { cwd: root, stdio: 'pipe' });
    const files = walk(out).map((f) => path.relative(out, f));
    expect(files).toEqual(expect.arrayContaining([expect.stringMatching(/^python\/src\/cdk_face_stream_pipeline\/__init__\.py$/)]));
    expect(files.some((f) => /^java\/src\/main\/java\/io\/github\/facestreampipeline\/cdk\/FaceStreamPipeline\.java$/.test(f))).toBe(true);
    expect(files.some((f) => /^dotnet\/CdkFaceStreamPipeline\/.*FaceStreamPipeline\.cs$/.test(f))).toBe(true);
    // .NET is not built (NuGet is not reachable): the README's C# Quick start is checked against the generated code
    expect(csharpQuickStartProblems(path.join(out, 'dotnet'), walk)).toEqual([]);
    expect(files.some((f) => /^go\/cdkfacestreampipeline\/FaceStreamPipeline\.go$/.test(f))).toBe(true);
    const init = path.join(out, 'python', 'src', 'cdk_face_stream_pipeline', '__init__.py');
    execFileSync('python3', ['-m', 'py_compile', init], { stdio: 'pipe' });
    expect(readFileSync(init, 'utf8')).toContain('class FaceStreamPipeline(');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

test('API.md is what jsii-docgen makes of the current API (run `npm run docgen` when this fails)', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'docgen-'));
  try {
    const fresh = path.join(out, 'API.md');
    execFileSync(bin('jsii-docgen'), ['-o', fresh], { cwd: root, stdio: 'pipe' });
    expect(existsSync(fresh)).toBe(true);
    expect(readFileSync(fresh, 'utf8') === readFileSync(path.join(root, 'API.md'), 'utf8')).toBe(true);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 60_000);

test('npm pack on an unbuilt copy builds first (prepack): the tarball has the compiled library and every bundle', () => {
  const copy = mkdtempSync(path.join(tmpdir(), 'unbuilt-'));
  try {
    // the sources as a fresh clone has them: tracked and untracked-but-not-ignored files, no build output
    const sources = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(path.join(root, f)));
    for (const file of sources) {
      mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      copyFileSync(path.join(root, file), path.join(copy, file));
    }
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    expect(existsSync(path.join(copy, 'lib', 'index.js'))).toBe(false);
    // the build's own output goes to the same stdout as npm's, so the tarball is read instead
    execFileSync('npm', ['pack', '--pack-destination', copy], { cwd: copy, stdio: 'pipe' });
    const tarball = readdirSync(copy).find((f) => f.endsWith('.tgz'))!;
    const files = execFileSync('tar', ['-tzf', path.join(copy, tarball)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['.jsii', 'lib/index.js', 'lib/index.d.ts', 'events.js', 'assets/face-consumer/index.js', 'assets/cli/index.js']));
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}, 240_000);
