/**
 * The Go module as a Go user gets it (`npm run test:languages`: too slow for every CI run): the module
 * jsii-pacmak builds (scripts/pacmak.mjs), with aws-cdk-go from the Go proxy (apps/go/go.mod and
 * go.sum, pinned), running the README's Go Quick start plus a frame-sampling camera (apps/go/main.go).
 * Its template must equal the TypeScript app's, and a bad prop must fail with the TypeScript message.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { APPS, appEnv, buildPackage, composeApp, expectSameAsTypeScript, goQuickStart } from './support';

test('the README Go Quick start with a frame-sampling camera synthesizes the TypeScript app template; a bad prop fails with the TypeScript message', () => {
  const dist = buildPackage('go');
  const work = mkdtempSync(path.join(tmpdir(), 'go-app-'));
  try {
    cpSync(path.join(APPS, 'go'), work, { recursive: true });
    const { imports, body } = goQuickStart();
    const withBody = composeApp(path.join(APPS, 'go', 'main.go'), body, '//');
    writeFileSync(path.join(work, 'main.go'), withBody.replace(/^(\t)\/\/ README-IMPORTS$/m, imports.map((l) => `\t${l}`).join('\n')));
    // the Go module cache (~/go/pkg/mod) and build cache (~/.cache/go-build) keep what a run fetched
    // and compiled (aws-cdk-go is large: its first build takes minutes)
    const env = appEnv({ GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly', CDK_OUTDIR: path.join(work, 'cdk.out') });
    execFileSync('go', ['mod', 'edit', `-replace=github.com/face-stream-pipeline/cdk-face-stream-pipeline-go/cdkfacestreampipeline=${path.join(dist, 'cdkfacestreampipeline')}`], { cwd: work, env });
    execFileSync('go', ['build', '-o', 'quickstart', '.'], { cwd: work, env, stdio: 'pipe' });
    const stdout = execFileSync(path.join(work, 'quickstart'), { cwd: work, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expectSameAsTypeScript(path.join(work, 'cdk.out'), stdout);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}, 1_800_000);
