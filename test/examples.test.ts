/**
 * One snapshot per example stack (asset hashes masked by test/support/mask-asset-hashes.js), and
 * the README's `npx cdk synth` run as a newcomer runs it: no AWS account, no credentials.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FaceAlertsStack } from '../examples/face-alerts-stack';
import { PeopleStack } from '../examples/people-stack';

test('FaceAlertsStack snapshot', () => {
  const app = new App();
  const stack = new FaceAlertsStack(app, 'FaceStreamPipelineExample');
  expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
});

test('PeopleStack: users mode on frame-sampling cameras; the rule filters on the people as with faces', () => {
  const stack = new PeopleStack(new App({ context: { watchFor: 'alice,bob' } }), 'People');
  const t = Template.fromStack(stack);
  expect(stack.pipeline.identity.mode).toBe('users');
  expect(stack.pipeline.cameras.map((c) => c.engineName)).toEqual(['frame-sampling', 'frame-sampling']);
  t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ IDENTITY: 'users' }) } });
  t.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ detail: Match.objectLike({ match: { externalImageId: ['alice', 'bob'] } }) }) });
  t.hasOutput('*', { Description: Match.stringLikeRegexp('backfill-users') });
});

test('`npx cdk synth` synthesizes the example app without credentials', () => {
  const root = path.join(__dirname, '..');
  const output = mkdtempSync(path.join(tmpdir(), 'cdk-out-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' };
    for (const name of Object.keys(env)) {
      if (name.startsWith('AWS_') || name.startsWith('CDK_DEFAULT_')) {
        delete env[name];
      }
    }
    env.AWS_CONFIG_FILE = path.join(output, 'none');
    env.AWS_SHARED_CREDENTIALS_FILE = path.join(output, 'none');
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--output', output], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const template = JSON.parse(readFileSync(path.join(output, 'FaceStreamPipelineExample.template.json'), 'utf8'));
    const processors = Object.values<any>(template.Resources).filter((r) => r.Type === 'Custom::RekognitionStreamProcessor');
    expect(processors).toHaveLength(2);
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}, 120_000);

test('cdk.json sets every feature flag aws-cdk-lib recommends, as `cdk init` does', () => {
  const root = path.join(__dirname, '..');
  const recommended = JSON.parse(readFileSync(path.join(root, 'node_modules', 'aws-cdk-lib', 'recommended-feature-flags.json'), 'utf8'));
  const context = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')).context;
  expect(context).toEqual(expect.objectContaining(recommended));
});
