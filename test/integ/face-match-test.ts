/**
 * The deploying integ tests' common part: a stack with a FaceStreamPipeline of one camera (the
 * engine given), enrolment, the fixture photograph uploaded to the enrolment bucket, queues that
 * capture the "Face Enrolled" events and (through the pipeline's own onFaceMatch) the "Face Matched"
 * events, and a function that streams the fixture MKV to the camera with the bundled put-media CLI.
 * The IntegTest's assertions wait for the enrolment, stream the video, and wait for the match.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { FaceEvents, FaceSearchEngine, FaceStreamPipeline } from '../../lib/index';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'faces');
export const PERSON = 'eileen-collins';

/** The put-media Lambda's code: the bundled CLI, the fixture MKV and a handler that runs one with the other. */
function putMediaCode(): lambda.Code {
  const dir = path.join(os.tmpdir(), 'face-stream-pipeline-integ-put-media');
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(ROOT, 'assets', 'cli', 'index.js'), path.join(dir, 'cli.js'));
  copyFileSync(path.join(FIXTURES, 'astronaut-walk.mkv'), path.join(dir, 'video.mkv'));
  writeFileSync(path.join(dir, 'index.js'), [
    "const { execFileSync } = require('node:child_process');",
    '// put-media with the function\'s credentials and Region; a non-zero exit fails the invocation',
    "exports.handler = async () => ({ output: execFileSync(process.execPath, [__dirname + '/cli.js', 'put-media', '--stream', process.env.STREAM_NAME, __dirname + '/video.mkv'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) });",
    '',
  ].join('\n'));
  return lambda.Code.fromAsset(dir);
}

export function faceMatchTest(id: string, engine: FaceSearchEngine): App {
  const app = new App();
  const stack = new Stack(app, id);
  const pipeline = new FaceStreamPipeline(stack, 'Faces', {
    cameras: [{ name: 'door', engine }],
    faceMatchThreshold: 90,
    enrollment: true,
  });
  const camera = pipeline.cameras[0];

  const enrolled = new sqs.Queue(stack, 'Enrolled', { enforceSSL: true, removalPolicy: RemovalPolicy.DESTROY });
  new events.Rule(stack, 'CaptureEnrolled', {
    eventPattern: { source: [FaceEvents.SOURCE], detailType: [FaceEvents.FACE_ENROLLED] },
    targets: [new targets.SqsQueue(enrolled)],
  });
  const matched = new sqs.Queue(stack, 'Matched', { enforceSSL: true, removalPolicy: RemovalPolicy.DESTROY });
  pipeline.onFaceMatch('CaptureMatched', { externalImageIds: [PERSON], target: new targets.SqsQueue(matched) });

  // the photograph, uploaded to faces/<person>/ once the bucket's notifications are in place
  const upload = new s3deploy.BucketDeployment(stack, 'EnrolPhoto', {
    sources: [s3deploy.Source.asset(FIXTURES, { exclude: ['*', '!astronaut.jpg'] })],
    destinationBucket: pipeline.enrollment!.bucket,
    destinationKeyPrefix: `faces/${PERSON}/`,
    retainOnDelete: false,
  });
  upload.node.addDependency(pipeline);

  const putMedia = new lambda.Function(stack, 'PutMedia', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: putMediaCode(),
    timeout: Duration.minutes(2),
    memorySize: 512,
    environment: { STREAM_NAME: camera.videoStream.streamName },
  });
  camera.videoStream.grantWrite(putMedia);

  const integ = new IntegTest(app, `${id}Test`, {
    testCases: [stack],
    diffAssets: false,
    cdkCommandOptions: { destroy: { args: { force: true } } },
  });
  const message = (pattern: string) => ExpectedResult.objectLike({ Messages: Match.arrayWith([Match.objectLike({ Body: Match.stringLikeRegexp(pattern) })]) });
  const faceEnrolled = integ.assertions
    .awsApiCall('SQS', 'receiveMessage', { QueueUrl: enrolled.queueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 })
    .expect(message(`"externalImageId":"${PERSON}"`))
    .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(10) });
  const streamed = integ.assertions.invokeFunction({ functionName: putMedia.functionName });
  const faceMatched = integ.assertions
    .awsApiCall('SQS', 'receiveMessage', { QueueUrl: matched.queueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 })
    .expect(message(`"detail-type":"Face Matched".*"externalImageId":"${PERSON}"`))
    // frame sampling: a run a minute, 10 s behind live; a stream processor: seconds
    .waitForAssertions({ totalTimeout: Duration.minutes(8), interval: Duration.seconds(15) });
  faceEnrolled.next(streamed).next(faceMatched);
  return app;
}
