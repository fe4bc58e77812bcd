/**
 * Cameras of prefix-named data streams (issue 13), through the bundled handler: the camera is the
 * stream name after DATA_STREAM_PREFIX; CAMERAS entries (other streams) come first.
 */
import { ConsumerServices, kinesisEvent, kinesisRecord, loadConsumer, startServices } from './support/consumer-harness';
import { recordWith, toData } from './fixtures/face-records';
import { checkIam } from './support/iam-check';
import { consumerDeployment, consumerRole } from './support/iam-deployments';

// every AWS call made in these tests is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: consumerDeployment, callers: { AKIDEXAMPLE: consumerRole } });

let services: ConsumerServices;

beforeAll(async () => {
  services = await startServices();
});
afterAll(async () => {
  await services.stop();
});
beforeEach(() => services.reset());

const PREFIX = 'TestStack-Faces-Consumer-1A2B3C4D-';
const arn = (name: string) => `arn:aws:kinesis:us-west-2:123456789012:stream/${name}`;
const face = (stream: string) => kinesisRecord(toData(recordWith([{ matches: ['alice'] }])), arn(stream));

test('the camera of a prefix-named stream is the rest of its name; mapped and other streams as before', async () => {
  const handler = loadConsumer(services, { dataStreamPrefix: PREFIX, cameras: { [arn('legacy-stream')]: 'garage' } });
  const records = [face(`${PREFIX}porch`), face(`${PREFIX}lobby.east_2`), face('legacy-stream'), face('unrelated'), face(PREFIX)];
  expect(await handler(kinesisEvent(records))).toEqual({ batchItemFailures: [] });
  // the last two: no entry, no prefix (or nothing after it): the video stream's name
  expect(services.eventBridge.events.map((e) => e.Detail.camera)).toEqual(['porch', 'lobby.east_2', 'garage', 'front-door', 'front-door']);
});

test('a malformed record of a prefix-named stream names its camera in the dead letter', async () => {
  const handler = loadConsumer(services, { dataStreamPrefix: PREFIX });
  await handler(kinesisEvent([kinesisRecord('%%%%', arn(`${PREFIX}lobby`))]));
  expect(services.sqs.bodies()).toEqual([expect.objectContaining({ camera: 'lobby', eventSourceARN: arn(`${PREFIX}lobby`) })]);
});
