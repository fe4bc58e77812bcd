/**
 * Behaviour of the bundled stream processor handler (assets/stream-processor/index.js), driven
 * with CloudFormation-style events through the Provider framework's protocol, against a local
 * server speaking Rekognition's JSON 1.1 protocol, through the real AWS SDK v3 client.
 */
import { DATA_ARN, event, Harness, NAME_PREFIX, properties, ROLE_ARN, run, startHarness, VIDEO_ARN } from './support/provider-harness';
import { checkIam } from './support/iam-check';
import { providerDeployment, providerRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
const iam = checkIam({ deployment: providerDeployment, callers: { AKIDEXAMPLE: providerRole } });

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.fake.stop();
});
beforeEach(() => h.fake.reset());

const PREFIX = NAME_PREFIX;

async function createRunning(overrides: Record<string, unknown> = {}) {
  const props = properties(overrides);
  const outcome = await run(h.handler, event('Create', props));
  return { props, outcome };
}

describe('create', () => {
  test('creates, starts and waits until RUNNING', async () => {
    const { outcome } = await createRunning({ Tags: [{ Key: 'team', Value: 'security' }] });

    expect(outcome.PhysicalResourceId).toMatch(new RegExp(`^${PREFIX}-[0-9a-f]{12}$`));
    const p = h.fake.processors.get(outcome.PhysicalResourceId)!;
    expect(p).toMatchObject({
      Status: 'RUNNING',
      Input: { KinesisVideoStream: { Arn: VIDEO_ARN } },
      Output: { KinesisDataStream: { Arn: DATA_ARN } },
      RoleArn: ROLE_ARN,
      Settings: { FaceSearch: { CollectionId: 'faces', FaceMatchThreshold: 90 } },
      DataSharingPreference: { OptIn: false },
      Tags: { team: 'security' },
    });
    expect(outcome.Data).toEqual({ Name: outcome.PhysicalResourceId, Arn: p.StreamProcessorArn, Status: 'RUNNING' });
    expect(h.fake.calls.map((c) => c.operation).slice(0, 2)).toEqual(['CreateStreamProcessor', 'StartStreamProcessor']);
    // the threshold reaches the API as a number although CloudFormation sent a string
    expect(h.fake.callsOf('CreateStreamProcessor')[0].body.Settings.FaceSearch.FaceMatchThreshold).toBe(90);
    expect(outcome.polls).toBeGreaterThan(1);
  });

  test('with Running=false it is created STOPPED and never started', async () => {
    const { outcome } = await createRunning({ Running: 'false' });
    expect(outcome.Data.Status).toBe('STOPPED');
    expect(h.fake.callsOf('StartStreamProcessor')).toHaveLength(0);
    expect(h.fake.processors.get(outcome.PhysicalResourceId)!.Status).toBe('STOPPED');
  });

  test('uses a fixed Name when given, and opts in to data sharing only when asked', async () => {
    const { outcome } = await createRunning({ Name: 'front-door', DataSharing: 'true' });
    expect(outcome.PhysicalResourceId).toBe('front-door');
    expect(h.fake.processors.get('front-door')!.DataSharingPreference).toEqual({ OptIn: true });
  });

  test('a FAILED processor fails the deployment with the service StatusMessage, and rollback removes it', async () => {
    h.fake.failStartWith = `Access denied to Role ${ROLE_ARN}`;
    const create = event('Create', properties());
    const onEventResult = await h.handler.onEvent(create);
    const name = onEventResult.PhysicalResourceId;
    await expect(run(h.handler, create)).rejects.toThrow(`is FAILED: Access denied to Role ${ROLE_ARN}`);

    // CloudFormation rolls back with a Delete of the physical id it was given
    await run(h.handler, event('Delete', properties(), { PhysicalResourceId: name }));
    expect(h.fake.processors.size).toBe(0);
  });

  test('throttling is retried with backoff until it succeeds', async () => {
    h.fake.fail({ operation: 'CreateStreamProcessor', type: 'ThrottlingException', message: 'Rate exceeded', times: 2 });
    h.fake.fail({ operation: 'DescribeStreamProcessor', type: 'ProvisionedThroughputExceededException', message: 'slow down', times: 1 });
    h.fake.fail({ operation: 'StartStreamProcessor', type: 'InternalServerError', message: 'oops', status: 500, times: 1 });
    const { outcome } = await createRunning();
    expect(outcome.Data.Status).toBe('RUNNING');
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(3);
    expect(h.fake.callsOf('StartStreamProcessor')).toHaveLength(2);
    expect(h.fake.processors.size).toBe(1);
  });

  test('throttling that never ends fails after the bounded number of attempts', async () => {
    h.fake.fail({ operation: 'CreateStreamProcessor', type: 'ThrottlingException', message: 'Rate exceeded', times: 100 });
    await expect(run(h.handler, event('Create', properties()))).rejects.toThrow(/CreateStreamProcessor .* failed: ThrottlingException: Rate exceeded/);
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(8);
  });

  test.each([
    ['AccessDeniedException', 'User is not authorized to perform: rekognition:CreateStreamProcessor'],
    ['InvalidParameterException', 'Collection faces does not exist'],
    ['LimitExceededException', 'An Amazon Rekognition service limit was exceeded'],
  ])('%s fails at once with the service message', async (type, message) => {
    h.fake.fail({ operation: 'CreateStreamProcessor', type, message });
    await expect(run(h.handler, event('Create', properties()))).rejects.toThrow(`${type}: ${message}`);
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(1);
    expect(h.fake.processors.size).toBe(0);
  });

  test('the quota error of a real LimitExceeded is reported, not retried', async () => {
    h.fake.quota = 0;
    await expect(run(h.handler, event('Create', properties()))).rejects.toThrow(/LimitExceededException/);
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(1);
  });

  test('a start that fails permanently removes the processor it just created', async () => {
    h.fake.fail({ operation: 'StartStreamProcessor', type: 'AccessDeniedException', message: 'not allowed to start' });
    await expect(run(h.handler, event('Create', properties()))).rejects.toThrow(/StartStreamProcessor .* AccessDeniedException: not allowed to start/);
    expect(h.fake.processors.size).toBe(0);
  });

  test('a retried create adopts the processor of its first attempt', async () => {
    const create = event('Create', properties());
    const first = await h.handler.onEvent(create);
    const second = await run(h.handler, create); // the same request again, e.g. a Lambda retry
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(h.fake.processors.size).toBe(1);
    expect(second.Data.Status).toBe('RUNNING');
  });

  test('a retried create that finds a processor with other settings fails clearly', async () => {
    const create = event('Create', properties());
    const first = await h.handler.onEvent(create);
    h.fake.processors.get(first.PhysicalResourceId)!.Settings.FaceSearch.CollectionId = 'someone-elses';
    await expect(h.handler.onEvent(create)).rejects.toThrow(
      /already exists with other settings \(Settings\.FaceSearch\.CollectionId is "someone-elses", wanted "faces"\)/,
    );
  });

  test('invalid ResourceProperties are rejected with the field and what is allowed', async () => {
    await expect(h.handler.onEvent(event('Create', properties({ FaceMatchThreshold: 'high' })))).rejects.toThrow(
      'ResourceProperties.FaceMatchThreshold: expected a number 0-100, got "high"',
    );
    await expect(h.handler.onEvent(event('Create', properties({ Running: 'yes' })))).rejects.toThrow(
      'ResourceProperties.Running: expected true or false, got "yes"',
    );
    await expect(h.handler.onEvent(event('Create', properties({ KinesisVideoStreamArn: undefined })))).rejects.toThrow(
      'ResourceProperties.KinesisVideoStreamArn: expected a non-empty string, got undefined',
    );
    expect(h.fake.calls).toHaveLength(0);
  });
});

describe('update', () => {
  test('a change the API cannot make in place creates a processor under a new name; the old one is deleted afterwards', async () => {
    const { props, outcome } = await createRunning();
    const newProps = properties({ CollectionId: 'other-faces' });
    const updated = await run(h.handler, event('Update', newProps, { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }));

    expect(updated.PhysicalResourceId).not.toBe(outcome.PhysicalResourceId);
    expect(updated.PhysicalResourceId).toMatch(new RegExp(`^${PREFIX}-`));
    expect(h.fake.processors.get(updated.PhysicalResourceId)).toMatchObject({
      Status: 'RUNNING',
      Settings: { FaceSearch: { CollectionId: 'other-faces' } },
    });
    // CloudFormation then deletes the old physical id
    await run(h.handler, event('Delete', props, { PhysicalResourceId: outcome.PhysicalResourceId }));
    expect([...h.fake.processors.keys()]).toEqual([updated.PhysicalResourceId]);
  });

  test.each([
    ['KinesisVideoStreamArn', 'arn:aws:kinesisvideo:eu-west-1:123456789012:stream/other/1700000000001'],
    ['KinesisDataStreamArn', 'arn:aws:kinesis:eu-west-1:123456789012:stream/other'],
    ['RoleArn', 'arn:aws:iam::123456789012:role/Other'],
    ['FaceMatchThreshold', '95'],
  ])('changing %s replaces the processor', async (key, value) => {
    const { props, outcome } = await createRunning();
    const updated = await run(
      h.handler,
      event('Update', properties({ [key]: value }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }),
    );
    expect(updated.PhysicalResourceId).not.toBe(outcome.PhysicalResourceId);
  });

  test('with a fixed name, a change that needs a new processor fails and says to change the name', async () => {
    const { props, outcome } = await createRunning({ Name: 'front-door' });
    await expect(
      run(
        h.handler,
        event('Update', properties({ Name: 'front-door', FaceMatchThreshold: '95' }), {
          PhysicalResourceId: outcome.PhysicalResourceId,
          OldResourceProperties: props,
        }),
      ),
    ).rejects.toThrow(/Cannot change FaceMatchThreshold of stream processor "front-door".*Change streamProcessorName too/);
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(1);
  });

  test('with a fixed name changed too, the replacement takes the new name', async () => {
    const { props, outcome } = await createRunning({ Name: 'front-door' });
    const updated = await run(
      h.handler,
      event('Update', properties({ Name: 'front-door-v2', FaceMatchThreshold: '95' }), {
        PhysicalResourceId: outcome.PhysicalResourceId,
        OldResourceProperties: props,
      }),
    );
    expect(updated.PhysicalResourceId).toBe('front-door-v2');
  });

  test('changing Running only stops and starts the same processor', async () => {
    const { props, outcome } = await createRunning();
    const stopped = await run(
      h.handler,
      event('Update', properties({ Running: 'false' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }),
    );
    expect(stopped.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(stopped.Data.Status).toBe('STOPPED');
    expect(h.fake.processors.get(outcome.PhysicalResourceId)!.Status).toBe('STOPPED');

    const started = await run(
      h.handler,
      event('Update', properties(), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: properties({ Running: 'false' }) }),
    );
    expect(started.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(started.Data.Status).toBe('RUNNING');
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(1);
    expect(h.fake.callsOf('StopStreamProcessor')).toHaveLength(1);
    expect(h.fake.callsOf('StartStreamProcessor')).toHaveLength(2);
  });

  test('tag changes use TagResource and UntagResource on the same processor', async () => {
    const before = [
      { Key: 'keep', Value: '1' },
      { Key: 'drop', Value: '2' },
      { Key: 'change', Value: 'old' },
    ];
    const after = [
      { Key: 'keep', Value: '1' },
      { Key: 'change', Value: 'new' },
      { Key: 'add', Value: '3' },
    ];
    const { props, outcome } = await createRunning({ Tags: before });
    await run(h.handler, event('Update', properties({ Tags: after }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }));
    expect(h.fake.processors.get(outcome.PhysicalResourceId)!.Tags).toEqual({ keep: '1', change: 'new', add: '3' });
    expect(h.fake.callsOf('UntagResource')[0].body.TagKeys).toEqual(['drop']);
    expect(h.fake.callsOf('TagResource')[0].body.Tags).toEqual({ add: '3', change: 'new' });
  });

  test('changing DataSharing updates the processor in place', async () => {
    const { props, outcome } = await createRunning();
    const updated = await run(
      h.handler,
      event('Update', properties({ DataSharing: 'true' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }),
    );
    expect(updated.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(h.fake.callsOf('UpdateStreamProcessor')[0].body).toEqual({ Name: outcome.PhysicalResourceId, DataSharingPreferenceForUpdate: { OptIn: true } });
    expect(h.fake.processors.get(outcome.PhysicalResourceId)).toMatchObject({ Status: 'RUNNING', DataSharingPreference: { OptIn: true } });
  });

  test('a processor deleted out of band is created again under the same name', async () => {
    const { props, outcome } = await createRunning();
    h.fake.processors.clear();
    const updated = await run(
      h.handler,
      event('Update', properties({ Tags: [{ Key: 'a', Value: 'b' }] }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }),
    );
    expect(updated.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(h.fake.processors.get(outcome.PhysicalResourceId)!.Status).toBe('RUNNING');
  });
});

describe('delete', () => {
  test('a running processor is stopped, waited for until STOPPED, then deleted', async () => {
    const { props, outcome } = await createRunning();
    await run(h.handler, event('Delete', props, { PhysicalResourceId: outcome.PhysicalResourceId }));
    expect(h.fake.processors.size).toBe(0);
    const ops = h.fake.calls.map((c) => c.operation);
    const stopAt = ops.indexOf('StopStreamProcessor');
    const deleteAt = ops.indexOf('DeleteStreamProcessor');
    expect(stopAt).toBeGreaterThan(-1);
    expect(deleteAt).toBeGreaterThan(stopAt);
    // never asked to delete while it was still stopping
    expect(h.fake.callsOf('DeleteStreamProcessor')).toHaveLength(1);
  });

  test('a processor that is still STARTING is waited for, stopped, then deleted', async () => {
    h.fake.pollsToSettle = 3;
    const props = properties();
    const created = await h.handler.onEvent(event('Create', props)); // STARTING, nobody waited
    await run(h.handler, event('Delete', props, { PhysicalResourceId: created.PhysicalResourceId }));
    expect(h.fake.processors.size).toBe(0);
  });

  test('a processor that no longer exists is success', async () => {
    const outcome = await run(h.handler, event('Delete', properties(), { PhysicalResourceId: `${PREFIX}-000000000000` }));
    expect(outcome.polls).toBe(1);
    expect(h.fake.callsOf('DeleteStreamProcessor')).toHaveLength(0);
  });

  test('a physical id that is not a processor name (a create that failed early) is success without any call', async () => {
    await run(h.handler, event('Delete', properties(), { PhysicalResourceId: 'arn:aws:cloudformation:failed/create' }));
    expect(h.fake.calls).toHaveLength(0);
  });

  test('a delete never fails on broken properties', async () => {
    const { outcome } = await createRunning();
    await run(h.handler, event('Delete', { ServiceToken: 'x' }, { PhysicalResourceId: outcome.PhysicalResourceId }));
    expect(h.fake.processors.size).toBe(0);
  });
});

describe('waits end', () => {
  // The deadline is onEvent's WaitDeadline; these tests put it in the past instead of sleeping.
  test('a processor stuck in STARTING fails once the wait deadline passes, naming the state', async () => {
    h.fake.stuckStarting = true;
    const create = event('Create', properties());
    const waiting = { ...create, ...(await h.handler.onEvent(create)) };
    expect(await h.handler.isComplete(waiting)).toEqual({ IsComplete: false });
    await expect(h.handler.isComplete({ ...waiting, WaitDeadline: Date.now() - 1 })).rejects.toThrow(
      /Timed out after 60s waiting for stream processor "[^"]+" to become RUNNING: it is still STARTING\. The stream processor "[^"]+" created by this request could not be deleted \(it is still STARTING\)/,
    );
  });

  test('a delete whose processor never stops fails once the wait deadline passes, naming the state', async () => {
    const { props, outcome } = await createRunning();
    h.fake.fail({ operation: 'StopStreamProcessor', type: 'ResourceInUseException', message: 'busy', times: 1000 });
    const remove = event('Delete', props, { PhysicalResourceId: outcome.PhysicalResourceId });
    const waiting = { ...remove, ...(await h.handler.onEvent(remove)) };
    expect(await h.handler.isComplete(waiting)).toEqual({ IsComplete: false });
    await expect(h.handler.isComplete({ ...waiting, WaitDeadline: Date.now() - 1 })).rejects.toThrow(
      /Timed out after 60s waiting to delete stream processor "[^"]+": it is still RUNNING/,
    );
  });
});

test('every request is signed with SigV4 for rekognition in the configured Region', () => {
  // the fake rejects unsigned requests; check what the real client sent in this file's run
  for (const call of h.fake.calls) {
    expect(call.authorization).toMatch(/\/eu-west-1\/rekognition\/aws4_request/);
  }
});

describe('faults: afterwards the service holds no processor the stack does not know about', () => {
  /** The physical ids CloudFormation holds after the scenario. */
  let known: string[];
  beforeEach(() => {
    known = [];
  });
  afterEach(() => {
    expect([...h.fake.processors.keys()].sort()).toEqual([...known].sort());
  });

  test('the service failing mid-create: the half-made processor is removed, and the rollback delete succeeds', async () => {
    h.fake.fail({ operation: 'StartStreamProcessor', type: 'InternalServerError', message: 'service unavailable', status: 500, times: 100 });
    const create = event('Create', properties());
    await expect(run(h.handler, create)).rejects.toThrow(/StartStreamProcessor .* InternalServerError/);
    iam.knownDenial(
      'rekognition:DescribeStreamProcessor',
      // as deployed, CDK's Provider framework answers a failed create with the physical id
      // AWSCDK::CustomResourceProviderFramework::CREATE_FAILED and never invokes the handler for its
      // delete; a made-up id like this one is outside the provider's streamprocessor/<stack prefix>-*
      'DescribeStreamProcessor of "<request>-failed", a name no deployment of the provider may describe (AccessDenied in AWS)',
    );
    // the framework reports the failure with a physical id that is not a processor; rollback deletes it
    await run(h.handler, event('Delete', properties(), { PhysicalResourceId: `${create.RequestId}-failed` }));
  });

  test('a failure after create that the clean-up cannot fix is fixed by the rollback delete of the physical id', async () => {
    h.fake.failStartWith = 'Access denied to Kinesis Video Stream';
    const create = event('Create', properties());
    const started = await h.handler.onEvent(create);
    await expect(run(h.handler, create)).rejects.toThrow(/FAILED: Access denied to Kinesis Video Stream/);
    await run(h.handler, event('Delete', properties(), { PhysicalResourceId: started.PhysicalResourceId }));
  });

  test('a throttling storm on every operation is ridden out', async () => {
    for (const operation of ['CreateStreamProcessor', 'StartStreamProcessor', 'DescribeStreamProcessor', 'StopStreamProcessor', 'DeleteStreamProcessor']) {
      h.fake.fail({ operation, type: 'ThrottlingException', message: 'Rate exceeded', times: 5 });
    }
    const { props, outcome } = await createRunning();
    expect(outcome.Data.Status).toBe('RUNNING');
    await run(h.handler, event('Delete', props, { PhysicalResourceId: outcome.PhysicalResourceId }));
  });

  test('a processor deleted out of band: the stack delete succeeds', async () => {
    const { props, outcome } = await createRunning();
    h.fake.processors.delete(outcome.PhysicalResourceId);
    await run(h.handler, event('Delete', props, { PhysicalResourceId: outcome.PhysicalResourceId }));
  });

  test('a stack delete while the processor runs stops it first, then deletes it', async () => {
    const { props, outcome } = await createRunning();
    await run(h.handler, event('Delete', props, { PhysicalResourceId: outcome.PhysicalResourceId }));
    expect(h.fake.callsOf('StopStreamProcessor')).toHaveLength(1);
  });

  test('a replacement that fails leaves the old processor to the stack and removes the new one before failing', async () => {
    const { props, outcome } = await createRunning();
    known = [outcome.PhysicalResourceId];
    h.fake.failStartWith = 'Collection other-faces not found';
    const update = event('Update', properties({ CollectionId: 'other-faces' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props });
    await expect(run(h.handler, update)).rejects.toThrow(/Collection other-faces not found.*created by this request was deleted/);
    expect(h.fake.processors.get(outcome.PhysicalResourceId)!.Status).toBe('RUNNING');
  });
});

describe('the contract, for callers other than the construct', () => {
  test('without NamePrefix or Name, the generated name starts with the logical resource id', async () => {
    iam.notDeployed('the construct always passes NamePrefix or Name: its provider may manage no other names');
    const props = properties();
    delete props.NamePrefix;
    const outcome = await run(h.handler, event('Create', props));
    expect(outcome.PhysicalResourceId).toMatch(/^FacesfrontdoorStreamProcessor58A0293B-[0-9a-f]{12}$/);
  });

  test('an isComplete event without onEvent\'s WaitDeadline times out from the processor\'s last status change', async () => {
    h.fake.stuckStarting = true;
    const create = event('Create', properties());
    const { PhysicalResourceId } = await h.handler.onEvent(create);
    const bare = { ...create, PhysicalResourceId }; // no WaitDeadline
    expect(await h.handler.isComplete(bare)).toEqual({ IsComplete: false });
    h.fake.processors.get(PhysicalResourceId)!.LastUpdateTimestamp = Date.now() / 1000 - 61; // WaitTimeoutSeconds is 60
    await expect(h.handler.isComplete(bare)).rejects.toThrow(/Timed out after 60s waiting for stream processor "[^"]+" to become RUNNING: it is still STARTING$/);
  });
});
