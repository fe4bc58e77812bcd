/**
 * The IAM check itself (test/support/iam-check.ts), and what no handler test's request shows: the
 * calls AWS services make with this library's service roles (Rekognition for a stream processor,
 * EventBridge Scheduler for a schedule, Lambda's event source mapping for the consumer) and the
 * confused-deputy conditions of those roles' trust policies, evaluated with iam-simulate against
 * the synthesized templates.
 */
import { DeployedResource, Deployment, NamedPolicy } from './support/iam-deployment';
import { AuthorizationRequest, checkIam, describeDenial, evaluateAll, receivedAuthorizationRequests, rekognitionServiceCalls } from './support/iam-check';
import { ACCOUNT, consumerDeployment, consumerRole, providerDeployment, samplerDeployment, samplerRole } from './support/iam-deployments';
import { kinesisEvent, kinesisRecord, loadConsumer, startServices, ConsumerServices } from './support/consumer-harness';
import { NAME_PREFIX, properties, ROLE_ARN, DATA_ARN, VIDEO_ARN } from './support/provider-harness';

checkIam({ deployment: consumerDeployment, callers: { AKIDEXAMPLE: consumerRole } });

// a test may synthesize its app (when lib/ changed since the cache in the OS temp folder was made)
jest.setTimeout(180_000);

/** The policies less every statement allowing `action` (a planted missing permission). */
const without = (action: string) => (policies: { identity: NamedPolicy[] }) => {
  for (const p of policies.identity) {
    p.policy = { ...p.policy, Statement: p.policy.Statement.filter((s: any) => ![s.Action].flat().includes(action)) };
  }
};

describe('a planted missing permission fails the check', () => {
  let services: ConsumerServices;
  beforeAll(async () => {
    services = await startServices();
  });
  afterAll(() => services.stop());

  test('the consumer\'s dead letter: allowed as synthesized, denied without sqs:SendMessage or without the key statement for SQS', async () => {
    const handler = loadConsumer(services, { dedupeWindowSeconds: 60 });
    const response = await handler(kinesisEvent([kinesisRecord(Buffer.from('not json').toString('base64'))]));
    expect(response.batchItemFailures).toEqual([]);
    expect(services.sqs.callsOf('SendMessage').length + services.sqs.callsOf('SendMessageBatch').length).toBeGreaterThan(0);

    const d = consumerDeployment();
    const requests = receivedAuthorizationRequests(d, { deployment: consumerDeployment, callers: { AKIDEXAMPLE: consumerRole } });
    expect(requests.map((r) => r.action)).toEqual(expect.arrayContaining(['sqs:SendMessage', 'kms:GenerateDataKey']));
    expect(await evaluateAll(d, requests)).toEqual([]);

    const noSend = (await evaluateAll(d, requests, without('sqs:SendMessage'))).map(describeDenial);
    expect(noSend).toEqual([expect.stringContaining('ImplicitlyDenied: role TestStack/Consumer/HandlerRole/Resource sqs:SendMessage on arn:aws:sqs:us-west-2:123456789012:face-dlq')]);
    expect(noSend[0]).toContain('missing: {"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-west-2:123456789012:face-dlq"}');

    // the key statements are per service (kms:ViaService): the queue's goes, the table's stays
    const noQueueKey = (policies: { identity: NamedPolicy[] }) => {
      for (const p of policies.identity) {
        p.policy = { ...p.policy, Statement: p.policy.Statement.filter((s: any) => s.Condition?.StringEquals?.['kms:ViaService'] !== 'sqs.us-west-2.amazonaws.com') };
      }
    };
    const noKey = (await evaluateAll(d, requests, noQueueKey)).map(describeDenial);
    expect(noKey).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ImplicitlyDenied: role \S+ kms:GenerateDataKey on arn:aws:kms:us-west-2:123456789012:key\/\S+\n {2}for sqs SendMessage(Batch)? POST \/ \(sqs on the caller's behalf/)]),
    );
  });
});

describe('a site\'s frame sampler and its hub\'s budget table', () => {
  const d = () => samplerDeployment();
  const hubTable = () => d().arn(d().resource('AWS::DynamoDB::Table', /^Hub\/.*FrameSampler\/State\/Resource$/));
  const ask = (keys: string[]): AuthorizationRequest => ({
    principal: { role: samplerRole(d()) },
    action: 'dynamodb:UpdateItem',
    resource: hubTable(),
    context: { 'dynamodb:LeadingKeys': keys },
    origin: 'test',
  });

  test('writes budget rows in the hub\'s table, and no other row there', async () => {
    expect(hubTable()).toBe(`arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/hub-budget`);
    expect(await evaluateAll(d(), [ask(['budget|DetectFaces'])])).toEqual([]);
    expect((await evaluateAll(d(), [ask(['camera|HubFaceslobby'])])).map((x) => x.result)).toEqual(['ImplicitlyDenied']);
  });
});

/** Every authorization request `requests` gives, none denied. */
async function expectAllowed(d: Deployment, requests: AuthorizationRequest[]): Promise<void> {
  expect(requests.length).toBeGreaterThan(0);
  expect((await evaluateAll(d, requests)).map(describeDenial)).toEqual([]);
}

describe('service roles, as the services use them', () => {
  test('Rekognition, for each stream processor: assumes its role for that processor only, reads the video stream, writes the data stream', async () => {
    const d = providerDeployment();
    const processors = d.resources('Custom::RekognitionStreamProcessor');
    expect(processors.length).toBeGreaterThan(2);
    const roles: DeployedResource[] = [];
    for (const processor of processors) {
      const props = d.resolve(processor.stack, processor.properties);
      const arn = `arn:aws:rekognition:eu-west-1:${ACCOUNT}:streamprocessor/${props.Name ?? `${props.NamePrefix}-0123456789ab`}`;
      const role = d.resources('AWS::IAM::Role').find((r) => d.arn(r) === props.RoleArn);
      if (!role) continue; // a role of the user's (imported): its policies are not in this app
      roles.push(role);
      await expectAllowed(d, rekognitionServiceCalls(d, role, arn, props.KinesisVideoStreamArn, props.KinesisDataStreamArn, processor.path));
      // the confused deputy: another account's processor, or this account's processor of another camera
      const assume = (sourceArn: string, sourceAccount: string): AuthorizationRequest => ({
        principal: { service: 'rekognition.amazonaws.com' },
        action: 'sts:AssumeRole',
        resource: props.RoleArn,
        context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount },
        origin: processor.path,
      });
      const denied = await evaluateAll(d, [
        assume(arn.replace(ACCOUNT, '999999999999'), '999999999999'),
        assume(`arn:aws:rekognition:eu-west-1:${ACCOUNT}:streamprocessor/some-other-camera`, ACCOUNT),
      ]);
      expect(denied.map((x) => x.result)).toEqual(['ImplicitlyDenied', 'ImplicitlyDenied']);
    }
    expect(roles.length).toBeGreaterThan(2);
  });

  test('EventBridge Scheduler: invokes the sampler, writes a scheduled camera\'s state row, for this account\'s schedules only', async () => {
    const d = samplerDeployment();
    const schedules = d.resources('AWS::Scheduler::Schedule');
    const targets = new Set<string>();
    for (const schedule of schedules) {
      const target = d.resolve(schedule.stack, schedule.properties.Target);
      const role = d.roleAt(schedule.stack, schedule.properties.Target.RoleArn);
      const scheduleArn = d.arn(schedule);
      const requests: AuthorizationRequest[] = [
        { principal: { service: 'scheduler.amazonaws.com' }, action: 'sts:AssumeRole', resource: d.arn(role), context: { 'aws:SourceArn': scheduleArn, 'aws:SourceAccount': ACCOUNT }, origin: schedule.path },
      ];
      const universal = /^arn:aws:scheduler:::aws-sdk:([a-z0-9]+):(\w+)$/.exec(target.Arn);
      if (universal) {
        const input = JSON.parse(target.Input);
        const action = `${universal[1]}:${universal[2].charAt(0).toUpperCase()}${universal[2].slice(1)}`;
        expect(action).toBe('dynamodb:UpdateItem');
        const table = `arn:aws:dynamodb:us-west-2:${ACCOUNT}:table/${input.TableName}`;
        requests.push({ principal: { role }, action, resource: table, context: { 'dynamodb:LeadingKeys': [input.Key.pk.S] }, origin: schedule.path });
      } else {
        requests.push({ principal: { role }, action: 'lambda:InvokeFunction', resource: target.Arn, context: {}, origin: schedule.path });
      }
      targets.add(requests[1].action);
      await expectAllowed(d, requests);
      const foreign = await evaluateAll(d, [{ ...requests[0], context: { 'aws:SourceArn': scheduleArn.replace(ACCOUNT, '999999999999'), 'aws:SourceAccount': '999999999999' } }]);
      expect(foreign.map((x) => x.result)).toEqual(['ImplicitlyDenied']);
    }
    expect([...targets].sort()).toEqual(['dynamodb:UpdateItem', 'lambda:InvokeFunction']);
  });

  test('Lambda\'s event source mapping reads each data stream (and its key) with the consumer\'s role', async () => {
    const d = consumerDeployment();
    const mappings = d.resources('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThan(0);
    for (const mapping of mappings) {
      const role = consumerRole(d);
      const stream = String(d.resolve(mapping.stack, mapping.properties.EventSourceArn));
      const read = ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'];
      const requests: AuthorizationRequest[] = read.map((action) => ({ principal: { role }, action, resource: stream, context: {}, origin: mapping.path }));
      const onFailure = mapping.properties.DestinationConfig?.OnFailure?.Destination;
      if (onFailure) requests.push({ principal: { role }, action: 'sqs:SendMessage', resource: String(d.resolve(mapping.stack, onFailure)), context: {}, origin: mapping.path });
      await expectAllowed(d, requests);
    }
  });
});

test('the provider harness\'s properties are the deployed processor\'s (names, role, streams, collection)', () => {
  const d = providerDeployment();
  const deployed = d.resources('Custom::RekognitionStreamProcessor').map((r) => d.resolve(r.stack, r.properties));
  const harness = properties();
  expect(deployed).toContainEqual(
    expect.objectContaining({ NamePrefix: NAME_PREFIX, RoleArn: ROLE_ARN, KinesisVideoStreamArn: VIDEO_ARN, KinesisDataStreamArn: DATA_ARN, CollectionId: harness.CollectionId }),
  );
  expect(deployed).toContainEqual(expect.objectContaining({ Name: 'front-door', RoleArn: properties({ Name: 'front-door' }).RoleArn }));
});
