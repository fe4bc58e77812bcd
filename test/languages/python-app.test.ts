/**
 * The Python package as a Python user gets it: the wheel jsii-pacmak builds (scripts/pacmak.mjs),
 * installed with aws-cdk-lib and constructs from PyPI (.venv-languages, made by scripts/setup-tools.sh
 * from requirements-languages.txt), running the README's Python Quick start, verbatim, plus a
 * frame-sampling camera (apps/python/app.py). Its template must equal the TypeScript app's, and a bad
 * prop must fail with the TypeScript message.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { APPS, appEnv, buildPackage, composeApp, expectSameAsTypeScript, quickStart } from './support';
import { REPO_ROOT } from '../support/tools';

const venv = path.join(REPO_ROOT, '.venv-languages');
const python = path.join(venv, 'bin', 'python');

/** Installs the built wheel into the venv, unless that very wheel is installed already. */
function installWheel(): string {
  const dist = buildPackage('python');
  const wheel = path.join(dist, readdirSync(dist).find((f) => f.endsWith('.whl'))!);
  const sha = createHash('sha256').update(readFileSync(wheel)).digest('hex');
  const marker = path.join(venv, '.wheel.sha256');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== sha) {
    // --no-deps: the wheel asks for aws-cdk-lib>=2.276.0 (the peer dependency), which PyPI does not
    // serve yet; the venv has 2.275.0, pinned (requirements-languages.txt)
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--force-reinstall', wheel], { stdio: 'pipe' });
    writeFileSync(marker, sha);
  }
  return wheel;
}

test('the README Python Quick start with a frame-sampling camera synthesizes the TypeScript app template; a bad prop fails with the TypeScript message', () => {
  expect(existsSync(python)).toBe(true); // `npm run setup` makes it
  const wheel = installWheel();
  expect(path.basename(wheel)).toMatch(/^cdk_face_stream_pipeline-.*-py3-none-any\.whl$/);

  const work = mkdtempSync(path.join(tmpdir(), 'python-app-'));
  try {
    const snippet = quickStart('python');
    const app = composeApp(path.join(APPS, 'python', 'app.py'), snippet, '#');
    for (const line of snippet.split('\n')) expect(app).toContain(line); // verbatim, only indented
    writeFileSync(path.join(work, 'app.py'), app);
    const out = path.join(work, 'cdk.out');
    // one Python process synthesizes the app, then prints the bad props' messages (the jsii runtime
    // starts once)
    const stdout = execFileSync(python, ['app.py'], { cwd: work, encoding: 'utf8', env: appEnv({ CDK_OUTDIR: out }), stdio: ['ignore', 'pipe', 'pipe'] });
    expectSameAsTypeScript(out, stdout);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 600_000);
