/**
 * The deploying integ tests (test/integ/integ.*.ts, IntegTests of @aws-cdk/integ-tests-alpha),
 * verified offline: each app is synthesized and its templates and integ manifest must equal the
 * committed snapshot (test/integ/integ.<name>.ts.snapshot/, integ-runner's layout; asset hashes
 * masked, asset folders not committed). `npm run integ:snapshot` rewrites the snapshots after an
 * intended change; `npm run integ:deploy` deploys, asserts and destroys in the caller's account.
 *
 * integ-runner itself cannot do this check here: its newest release (2.197.10) reads cloud
 * assembly schema 53 at most, and aws-cdk-lib 2.276 writes 55.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const INTEG = path.join(__dirname, 'integ');
const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const UPDATE = process.env.UPDATE_INTEG_SNAPSHOTS === '1';
const tests = readdirSync(INTEG).filter((f) => /^integ\..*\.ts$/.test(f));
jest.setTimeout(300_000);

/** What the snapshot keeps of an assembly: templates, the integ manifest and the assembly manifest, hashes and salts masked. */
function snapshotFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.template.json') || name === 'integ.json' || name === 'manifest.json') {
      const json = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
      // assertions carry a salt (the synthesis time) so that every deployment runs them again
      files[name] = JSON.stringify(json, null, 1).replace(/[0-9a-f]{64}/g, '[ASSET HASH]').replace(/"salt": "\d+"/g, '"salt": "[TIME]"') + '\n';
    }
  }
  return files;
}

test('two integ tests: a frame-sampling and a stream-processor camera', () => {
  expect(tests).toEqual(['integ.frame-sampling.ts', 'integ.stream-processor.ts']);
});

test.each(tests)('%s synthesizes to its committed snapshot', (file) => {
  const out = mkdtempSync(path.join(tmpdir(), 'integ-'));
  try {
    execFileSync(TSX, [path.join(INTEG, file)], { env: { ...process.env, CDK_OUTDIR: out }, stdio: ['ignore', 'ignore', 'pipe'] });
    const synthesized = snapshotFiles(out);
    const snapshot = path.join(INTEG, `${file}.snapshot`);
    if (UPDATE) {
      rmSync(snapshot, { recursive: true, force: true });
      mkdirSync(snapshot);
      for (const [name, text] of Object.entries(synthesized)) writeFileSync(path.join(snapshot, name), text);
    }
    expect(existsSync(snapshot)).toBe(true);
    expect(synthesized).toEqual(snapshotFiles(snapshot));
    // the assertions the deploying run makes: enrolled, streamed, matched, in that order
    const integ = JSON.parse(readFileSync(path.join(out, 'integ.json'), 'utf8'));
    const [testCase] = Object.values<any>(integ.testCases);
    const assertStack = readdirSync(out).find((n) => n.includes('DeployAssert') && n.endsWith('.template.json'))!;
    const template = readFileSync(path.join(out, assertStack), 'utf8');
    expect(testCase.stacks).toHaveLength(1);
    expect(template).toContain('"receiveMessage"');
    expect(template).toMatch(/Face Enrolled|externalImageId/);
    expect(template).toContain('Face Matched');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
