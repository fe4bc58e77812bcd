/**
 * Least privilege, judged on the synthesized templates: the statements of each role are evaluated
 * (test/support/policy-eval.ts) against the requests its handler makes and the ones it must not be
 * able to make.
 */
import { App, Stack, TimeZone } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { FaceSearchEngine, FaceStreamPipeline } from '../lib';
import { allows, resolve, roleStatements, Statement, tagsOf } from './support/policy-eval';

const env = { account: '111111111111', region: 'us-east-1' };

/** A hub with a camera of each engine, and a site (another stack, same account and Region) with one of each too. */
function mixedApp() {
  const app = new App();
  const hubStack = new Stack(app, 'Hub', { env });
  const hub = new FaceStreamPipeline(hubStack, 'Faces', {
    cameras: [{ name: 'processed' }, { name: 'sampled', engine: FaceSearchEngine.frameSampling() }],
  });
  const siteStack = new Stack(app, 'Site', { env });
  new FaceStreamPipeline(siteStack, 'Faces', { hub, cameras: [{ name: 'site-processed' }, { name: 'site-sampled', engine: FaceSearchEngine.frameSampling() }] });
  const assembly = app.synth();
  return { hub: assembly.getStackByName('Hub').template, site: assembly.getStackByName('Site').template };
}

/** The camera's streams as requests see them: their ARNs and tags. */
function streamsOf(template: any, camera: string) {
  const find = (type: string) => {
    const entry = Object.entries<any>(template.Resources).find(([, r]) => r.Type === type && typeof r.Properties.Name === 'string' && r.Properties.Name.endsWith(`-${camera}`));
    if (!entry) {
      throw new Error(`no ${type} for camera ${camera}`);
    }
    return { name: entry[1].Properties.Name as string, tags: tagsOf(template, entry[0]) };
  };
  const video = find('AWS::KinesisVideo::Stream');
  const data = find('AWS::Kinesis::Stream');
  return {
    video: { arn: `arn:aws:kinesisvideo:${env.region}:${env.account}:stream/${video.name}/1700000000000`, tags: video.tags },
    data: { arn: `arn:aws:kinesis:${env.region}:${env.account}:stream/${data.name}`, tags: data.tags },
  };
}

/** The statements of the frame sampler function's role. */
function samplerStatements(template: any): Statement[] {
  const fn = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && /samples frames/.test(r.Properties.Description ?? ''));
  return roleStatements(template, fn.Properties.Role['Fn::GetAtt'][0]);
}

/** What the sampler does with a camera's streams (lib/runtime/frame-sampler): read images, write records. */
function samplerReaches(statements: Statement[], streams: ReturnType<typeof streamsOf>) {
  const read = ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages'].map((action) => allows(statements, { action, resource: streams.video.arn, resourceTags: streams.video.tags }));
  const write = ['kinesis:PutRecord', 'kinesis:PutRecords'].map((action) => allows(statements, { action, resource: streams.data.arn, resourceTags: streams.data.tags }));
  return { read, write };
}

describe('the frame sampler reaches the frame-sampling cameras of its own stack only (issue 20, item 1)', () => {
  const { hub, site } = mixedApp();

  test("in a pipeline mixing engines, the sampler may read and write its cameras' streams and not a stream-processor camera's", () => {
    const sampler = samplerStatements(hub);
    expect(samplerReaches(sampler, streamsOf(hub, 'sampled'))).toEqual({ read: [true, true], write: [true, true] });
    expect(samplerReaches(sampler, streamsOf(hub, 'processed'))).toEqual({ read: [false, false], write: [false, false] });
  });

  test("a hub's and a site's samplers (one name prefix, one account and Region) do not reach each other's cameras", () => {
    const hubSampler = samplerStatements(hub);
    const siteSampler = samplerStatements(site);
    expect(samplerReaches(siteSampler, streamsOf(site, 'site-sampled'))).toEqual({ read: [true, true], write: [true, true] });
    for (const [sampler, template, camera] of [
      [siteSampler, hub, 'sampled'],
      [siteSampler, hub, 'processed'],
      [siteSampler, site, 'site-processed'],
      [hubSampler, site, 'site-sampled'],
      [hubSampler, site, 'site-processed'],
    ] as const) {
      expect({ camera, ...samplerReaches(sampler, streamsOf(template, camera)) }).toEqual({ camera, read: [false, false], write: [false, false] });
    }
  });

  test('the policy does not grow with cameras: one statement per action group, whatever the number of frame-sampling cameras', () => {
    const app = new App();
    const stack = new Stack(app, 'Many', { env });
    new FaceStreamPipeline(stack, 'Faces', {
      engine: FaceSearchEngine.frameSampling(),
      cameras: Array.from({ length: 9 }, (_, i) => ({ name: `cam-${i}`, ...(i % 3 === 0 ? { engine: FaceSearchEngine.streamProcessor() } : {}) })),
    });
    const template = app.synth().getStackByName('Many').template;
    const streamStatements = samplerStatements(template).filter((s) => [s.Action].flat().some((a) => /^kinesis(video)?:/.test(a!)));
    expect(streamStatements).toHaveLength(2);
    for (const statement of streamStatements) {
      expect([statement.Resource].flat()).toHaveLength(1);
    }
    expect(samplerReaches(samplerStatements(template), streamsOf(template, 'cam-0'))).toEqual({ read: [false, false], write: [false, false] });
    expect(samplerReaches(samplerStatements(template), streamsOf(template, 'cam-1'))).toEqual({ read: [true, true], write: [true, true] });
  });
});

/**
 * Actions that support no resource-level permission (Service Authorization Reference: no resource
 * type in their row), the only ones a statement of this library may grant on "*".
 */
const NO_RESOURCE_ACTIONS = new Set(
  [
    'rekognition:DetectFaces rekognition:ListStreamProcessors',
    // CloudWatch Logs' vended log delivery, which Step Functions logging uses
    'logs:CreateLogDelivery logs:GetLogDelivery logs:UpdateLogDelivery logs:DeleteLogDelivery logs:ListLogDeliveries',
    'logs:PutResourcePolicy logs:DescribeResourcePolicies logs:DescribeLogGroups',
  ]
    .join(' ')
    .toLowerCase()
    .split(' '),
);

/** A pipeline with every option on, both engines, a site in another stack. */
function everything(): any[] {
  const app = new App();
  const stack = new Stack(app, 'All', { env });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const hub = new FaceStreamPipeline(stack, 'Faces', {
    encryptionKey: key,
    enrollment: true,
    dashboard: true,
    schedule: { start: ScheduleExpression.cron({ hour: '8', minute: '0', timeZone: TimeZone.EUROPE_LONDON }), stop: ScheduleExpression.cron({ hour: '18', minute: '0', timeZone: TimeZone.EUROPE_LONDON }) },
    cameras: [{ name: 'a' }, { name: 'b', engine: FaceSearchEngine.frameSampling() }],
  });
  new FaceStreamPipeline(new Stack(app, 'AllSite', { env }), 'Faces', { hub, cameras: [{ name: 'c' }, { name: 'd', engine: FaceSearchEngine.frameSampling() }] });
  const assembly = app.synth();
  return assembly.stacks.map((s) => s.template);
}

describe('nothing on "*" but what supports nothing narrower (issue 20, item 2 and its class)', () => {
  const templates = everything();
  const statements: Array<{ where: string; statement: Statement }> = [];
  for (const template of templates) {
    for (const [id, resource] of Object.entries<any>(template.Resources)) {
      const documents =
        resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy'
          ? [resource.Properties.PolicyDocument]
          : resource.Type === 'AWS::IAM::Role'
            ? (resource.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)
            : [];
      for (const document of documents) {
        for (const statement of resolve(document).Statement) {
          statements.push({ where: id, statement });
        }
      }
    }
  }

  test('the templates hold IAM statements to judge', () => {
    expect(statements.length).toBeGreaterThan(20);
  });

  test('every action granted on "*" supports no resource-level permission', () => {
    const wide = statements
      .filter(({ statement }) => statement.Effect === 'Allow' && [statement.Resource].flat().includes('*'))
      .flatMap(({ where, statement }) => [statement.Action].flat().map((action) => `${where}: ${action}`))
      .filter((entry) => !NO_RESOURCE_ACTIONS.has(entry.split(': ')[1].toLowerCase()));
    expect(wide).toEqual([]);
  });

  test('the waiter state machine role may not write log events or streams anywhere', () => {
    const waiterRoles = templates.flatMap((t) =>
      Object.entries<any>(t.Resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('states.amazonaws.com'))
        .map(([id]) => ({ template: t, id })),
    );
    expect(waiterRoles.length).toBeGreaterThan(0);
    for (const { template, id } of waiterRoles) {
      const own = roleStatements(template, id);
      for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
        expect({ id, action, allowed: allows(own, { action, resource: 'arn:aws:logs:us-east-1:111111111111:log-group:any:log-stream:any' }) }).toEqual({ id, action, allowed: false });
      }
      expect(allows(own, { action: 'logs:CreateLogDelivery', resource: '*' })).toBe(true);
    }
  });

  test("the sampler's scheduler role writes the cameras' rows of the state table only, not the budget or leases beside them", () => {
    const roles = templates.flatMap((t) =>
      Object.entries<any>(t.Resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'))
        .map(([id]) => roleStatements(t, id))
        .filter((own) => own.some((st) => [st.Action].flat().includes('dynamodb:UpdateItem'))),
    );
    expect(roles.length).toBeGreaterThan(0);
    for (const own of roles) {
      const table = [own.find((st) => [st.Action].flat().includes('dynamodb:UpdateItem'))!.Resource].flat()[0]!;
      const update = (key: string) => allows(own, { action: 'dynamodb:UpdateItem', resource: table, context: { 'dynamodb:LeadingKeys': key } });
      expect([update('camera|AllFacesbF00'), update('budget|DetectFaces'), update('face|abc')]).toEqual([true, false, false]);
    }
  });

  test('service roles name the account they serve (confused deputy): the waiter role too', () => {
    const missing = templates.flatMap((t) =>
      Object.entries<any>(t.Resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Role')
        .flatMap(([id, r]) =>
          (resolve(r.Properties.AssumeRolePolicyDocument).Statement as any[])
            .filter((s) => [s.Principal?.Service ?? []].flat().some((p: string) => p !== 'lambda.amazonaws.com'))
            .filter((s) => !JSON.stringify(s.Condition ?? {}).includes('aws:SourceAccount'))
            .map((s) => `${id}: ${JSON.stringify(s.Principal)}`),
        ),
    );
    expect(missing).toEqual([]);
  });
});

describe('the consumer taking snapshots reads the frames of its pipeline\'s cameras only (issue 23)', () => {
  function snapshotApp() {
    const app = new App();
    const hubStack = new Stack(app, 'Hub', { env });
    const hub = new FaceStreamPipeline(hubStack, 'Faces', { snapshots: true, cameras: [{ name: 'processed' }, { name: 'sampled', engine: FaceSearchEngine.frameSampling() }] });
    new FaceStreamPipeline(new Stack(app, 'Site', { env }), 'Faces', { hub, cameras: [{ name: 'site-processed' }, { name: 'site-sampled', engine: FaceSearchEngine.frameSampling() }] });
    // another pipeline of the same account and Region
    new FaceStreamPipeline(new Stack(app, 'Other', { env }), 'Faces', { snapshots: true, cameras: [{ name: 'elsewhere' }] });
    const assembly = app.synth();
    return { hub: assembly.getStackByName('Hub').template, site: assembly.getStackByName('Site').template, other: assembly.getStackByName('Other').template };
  }
  const consumerStatements = (template: any): Statement[] => {
    const fn = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && /parses Rekognition face search records/.test(r.Properties.Description ?? ''));
    return roleStatements(template, fn.Properties.Role['Fn::GetAtt'][0]);
  };
  const reads = (statements: Statement[], video: { arn: string; tags: Record<string, string> }) =>
    ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetImages', 'kinesisvideo:GetMedia', 'kinesisvideo:PutMedia'].map((action) => allows(statements, { action, resource: video.arn, resourceTags: video.tags }));

  test("GetDataEndpoint and GetImages on the hub's and its sites' stream-processor cameras; nothing else of them, nothing of frame-sampling cameras (their sampler stores their snapshots) or of another pipeline's", () => {
    const { hub, site, other } = snapshotApp();
    const consumer = consumerStatements(hub);
    expect(reads(consumer, streamsOf(hub, 'processed').video)).toEqual([true, true, false, false]);
    expect(reads(consumer, streamsOf(site, 'site-processed').video)).toEqual([true, true, false, false]);
    expect(streamsOf(hub, 'sampled').video.tags).not.toEqual({});
    expect(reads(consumer, streamsOf(hub, 'sampled').video)).toEqual([false, false, false, false]);
    expect(reads(consumer, streamsOf(site, 'site-sampled').video)).toEqual([false, false, false, false]);
    expect(reads(consumer, streamsOf(other, 'elsewhere').video)).toEqual([false, false, false, false]);
    expect(reads(consumerStatements(other), streamsOf(hub, 'processed').video)).toEqual([false, false, false, false]);
  });
});
