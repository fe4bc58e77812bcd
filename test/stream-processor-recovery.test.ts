/**
 * The stream processor handler when deployments go wrong: rollbacks, failed replacements, refused
 * starts, throttled clean-ups, and combinations of changes. Driven through the bundled handler
 * (assets/stream-processor/index.js) against the fake Rekognition, which refuses what the service
 * refuses: Delete while RUNNING/STARTING/STOPPING, Update while busy; thresholds stored as max(80, value).
 */
import { event, Harness, properties, run, startHarness } from './support/provider-harness';
import { checkIam } from './support/iam-check';
import { providerDeployment, providerRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: providerDeployment, callers: { AKIDEXAMPLE: providerRole } });

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.fake.stop();
});
beforeEach(() => h.fake.reset());

const names = () => [...h.fake.processors.keys()].sort();

async function createRunning(overrides: Record<string, unknown> = {}) {
  const props = properties(overrides);
  const outcome = await run(h.handler, event('Create', props));
  return { props, outcome };
}

describe('rollback of a replacement returns to the original processor', () => {
  test('Update(new physical id, old properties) adopts the original instead of creating a third processor', async () => {
    const { props: original, outcome: a } = await createRunning();
    const changed = properties({ CollectionId: 'other-faces' });
    const b = await run(h.handler, event('Update', changed, { PhysicalResourceId: a.PhysicalResourceId, OldResourceProperties: original }));
    expect(b.PhysicalResourceId).not.toBe(a.PhysicalResourceId);

    // a later resource fails: CloudFormation rolls this one back with the old properties ...
    const back = await run(h.handler, event('Update', original, { PhysicalResourceId: b.PhysicalResourceId, OldResourceProperties: changed }));
    expect(back.PhysicalResourceId).toBe(a.PhysicalResourceId);
    expect(back.Data.Status).toBe('RUNNING');
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(3); // a, b, and the refused create of a's name
    // ... then deletes the physical id it rolled back from
    await run(h.handler, event('Delete', changed, { PhysicalResourceId: b.PhysicalResourceId }));
    expect(names()).toEqual([a.PhysicalResourceId]);
  });

  test('generated names depend only on NamePrefix and the settings that force a replacement', async () => {
    const first = await h.handler.onEvent(event('Create', properties({ Running: 'false', DataSharing: 'true', Tags: [{ Key: 'a', Value: 'b' }] })));
    h.fake.reset();
    const same = await h.handler.onEvent(event('Create', properties({ Running: 'false', FaceMatchThreshold: '90' })));
    h.fake.reset();
    const other = await h.handler.onEvent(event('Create', properties({ Running: 'false', FaceMatchThreshold: '91' })));
    expect(same.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(other.PhysicalResourceId).not.toBe(first.PhysicalResourceId);
  });
});

describe('a failed request removes what it created before failing', () => {
  test('a replacement that goes FAILED is deleted; the original keeps running', async () => {
    const { props, outcome } = await createRunning();
    h.fake.failStartWith = 'Access denied to Kinesis Data Stream';
    await expect(
      run(h.handler, event('Update', properties({ FaceMatchThreshold: '95' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props })),
    ).rejects.toThrow(/is FAILED: Access denied to Kinesis Data Stream.*created by this request was deleted/);
    expect(names()).toEqual([outcome.PhysicalResourceId]);
    expect(h.fake.processors.get(outcome.PhysicalResourceId)!.Status).toBe('RUNNING');
  });

  test('a replacement whose start is refused is deleted; the original keeps running', async () => {
    const { props, outcome } = await createRunning();
    h.fake.fail({ operation: 'StartStreamProcessor', type: 'AccessDeniedException', message: 'not allowed' });
    await expect(
      run(h.handler, event('Update', properties({ FaceMatchThreshold: '95' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props })),
    ).rejects.toThrow(/AccessDeniedException: not allowed\. The stream processor "[^"]+" created by this request was deleted/);
    expect(names()).toEqual([outcome.PhysicalResourceId]);
  });

  test('a rollback that adopts the original never deletes it, even when it fails', async () => {
    const { props: original, outcome: a } = await createRunning();
    const changed = properties({ CollectionId: 'other-faces' });
    const b = await run(h.handler, event('Update', changed, { PhysicalResourceId: a.PhysicalResourceId, OldResourceProperties: original }));
    h.fake.processors.get(a.PhysicalResourceId)!.Status = 'FAILED';
    h.fake.failStartWith = 'still broken';
    await expect(
      run(h.handler, event('Update', original, { PhysicalResourceId: b.PhysicalResourceId, OldResourceProperties: changed })),
    ).rejects.toThrow(/is FAILED: still broken\. Check/);
    expect(names()).toEqual([a.PhysicalResourceId, b.PhysicalResourceId].sort());
  });
});

describe('the create clean-up is retried and waits for a deletable status', () => {
  test('start refused, then Delete throttled: retried until the processor is gone', async () => {
    h.fake.fail({ operation: 'StartStreamProcessor', type: 'AccessDeniedException', message: 'not allowed to start' });
    h.fake.fail({ operation: 'DeleteStreamProcessor', type: 'ThrottlingException', message: 'Rate exceeded', times: 3 });
    await expect(run(h.handler, event('Create', properties()))).rejects.toThrow(/not allowed to start\. The stream processor "[^"]+" created by this request was deleted/);
    expect(names()).toEqual([]);
    expect(h.fake.callsOf('DeleteStreamProcessor')).toHaveLength(4);
  });

  test('a start that took effect although it answered with a permanent error: waited through STARTING, stopped, waited for STOPPED, deleted', async () => {
    // the start acts (STARTING), but the answer is an error: the processor is neither STOPPED nor deletable
    h.fake.startActsThenFails = { type: 'AccessDeniedException', message: 'answer after the fact', times: 1 };
    h.fake.fail({ operation: 'DeleteStreamProcessor', type: 'ThrottlingException', message: 'Rate exceeded', times: 1 });
    await expect(run(h.handler, event('Create', properties()))).rejects.toThrow(/created by this request was deleted/);
    expect(names()).toEqual([]);
    const ops = h.fake.calls.map((c) => c.operation);
    expect(ops.indexOf('StopStreamProcessor')).toBeGreaterThan(-1);
    expect(ops.lastIndexOf('DeleteStreamProcessor')).toBeGreaterThan(ops.indexOf('StopStreamProcessor'));
  });
});

describe('settings are compared as the service stores them', () => {
  test('a retried create with faceMatchThreshold below 80 adopts its own processor (stored as 80)', async () => {
    const create = event('Create', properties({ FaceMatchThreshold: '70' }));
    const first = await h.handler.onEvent(create);
    expect(h.fake.processors.get(first.PhysicalResourceId)!.Settings.FaceSearch.FaceMatchThreshold).toBe(80);
    const second = await run(h.handler, create);
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(second.Data.Status).toBe('RUNNING');
    expect(names()).toEqual([first.PhysicalResourceId]);
  });

  test('changing the threshold from 70 to 75 replaces nothing: both are stored as 80', async () => {
    const { props, outcome } = await createRunning({ FaceMatchThreshold: '70' });
    const updated = await run(h.handler, event('Update', properties({ FaceMatchThreshold: '75' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }));
    expect(updated.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(1);
  });
});

describe('any combination of changes reaches the desired state', () => {
  test.each([
    ['running: false with dataSharing: true', { Running: 'false', DataSharing: 'true' }, 'STOPPED', true],
    ['running: true with dataSharing: true, from stopped', { Running: 'true', DataSharing: 'true' }, 'RUNNING', true],
    ['running: false with dataSharing: false, from sharing', { Running: 'false', DataSharing: 'false' }, 'STOPPED', false],
  ])('%s', async (_, change, status, optIn) => {
    const from = change.Running === 'true' ? properties({ Running: 'false' }) : change.DataSharing === 'false' ? properties({ DataSharing: 'true' }) : properties();
    const { outcome } = await createRunning(from);
    const updated = await run(h.handler, event('Update', properties(change), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: from }));
    expect(updated.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(updated.Data.Status).toBe(status);
    expect(h.fake.processors.get(outcome.PhysicalResourceId)).toMatchObject({ Status: status, DataSharingPreference: { OptIn: optIn } });
    // every UpdateStreamProcessor was accepted (the fake refuses it while STARTING, STOPPING or UPDATING)
    expect(h.fake.callsOf('UpdateStreamProcessor')).toHaveLength(1);
  });
});

describe('a processor that went FAILED after the deployment', () => {
  test('running: false succeeds (FAILED analyses nothing), and so does the way back', async () => {
    const { props, outcome } = await createRunning();
    const p = h.fake.processors.get(outcome.PhysicalResourceId)!;
    p.Status = 'FAILED';
    p.StatusMessage = 'Access denied to Kinesis Video Stream';
    const stopped = await run(h.handler, event('Update', properties({ Running: 'false' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: props }));
    expect(stopped.Data.Status).toBe('FAILED');
    expect(h.fake.callsOf('StopStreamProcessor')).toHaveLength(0);
    // the rollback (or the next deployment) asks for running again: it is started
    const back = await run(h.handler, event('Update', props, { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: properties({ Running: 'false' }) }));
    expect(back.Data.Status).toBe('RUNNING');
  });
});

describe('old properties', () => {
  test('unreadable OldResourceProperties are named as such', async () => {
    const { outcome } = await createRunning();
    await expect(
      h.handler.onEvent(event('Update', properties(), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: properties({ FaceMatchThreshold: 'high' }) })),
    ).rejects.toThrow('OldResourceProperties.FaceMatchThreshold: expected a number 0-100, got "high"');
  });

  test('old properties without NamePrefix, for a processor already named after the new prefix, replace nothing', async () => {
    const props = properties();
    const legacy = { ...props };
    delete legacy.NamePrefix;
    const { outcome } = await createRunning();
    const updated = await run(h.handler, event('Update', props, { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: legacy }));
    expect(updated.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(1);
  });

  test('old properties without NamePrefix, for a processor named after the logical id, replace nothing when NamePrefix is that id', async () => {
    const legacy = properties();
    delete legacy.NamePrefix;
    const { outcome } = await createRunning(legacy);
    h.fake.calls.length = 0;
    const updated = await run(
      h.handler,
      event('Update', properties({ NamePrefix: 'FacesfrontdoorStreamProcessor58A0293B' }), { PhysicalResourceId: outcome.PhysicalResourceId, OldResourceProperties: legacy }),
    );
    expect(updated.PhysicalResourceId).toBe(outcome.PhysicalResourceId);
    expect(h.fake.callsOf('CreateStreamProcessor')).toHaveLength(0);
  });
});
