import { CfnOutput, CfnResource, Stack, StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
// '../lib/index' (not '../lib'): tsx then loads the TypeScript sources even where compiled lib/*.js exist
import { FaceSearchEngine, FaceStreamPipeline } from '../lib/index';

/**
 * Example: face alerts by e-mail. Three cameras search one face collection: two with Rekognition
 * stream processors (the default engine), and the yard with frame sampling, which every AWS
 * account can use; a known face seen with
 * at least 90% similarity, or an unknown face at the front door, sends an e-mail a person can read
 * ("alice at front-door", the time, the similarity, a link to the face snapshot that works for an
 * hour), at most one per person and camera a minute, thanks to sighting de-duplication.
 *
 * `npx cdk deploy -c alertEmail=you@example.com -c timeZone=Europe/Paris` subscribes that address
 * to the alerts and writes their times in that zone (UTC by default).
 */
export class FaceAlertsStack extends Stack {
  public readonly pipeline: FaceStreamPipeline;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.pipeline = new FaceStreamPipeline(this, 'Faces', {
      cameras: [{ name: 'front-door' }],
      faceMatchThreshold: 90,
      // upload faces/<person>/<photo>.jpg to the enrolment bucket to enrol a person
      enrollment: true,
      // a JPEG of each sighting's face and frame (biometric data, kept 30 days); the alerts link to the face
      snapshots: true,
    });
    this.pipeline.addCamera('lobby');
    // frames sampled every second and searched with the image APIs (no stream processor)
    this.pipeline.addCamera('yard', { engine: FaceSearchEngine.frameSampling() });

    const alerts = new sns.Topic(this, 'Alerts', { displayName: 'Face alerts', enforceSSL: true });
    // how a checkov finding is skipped on one resource, with the reason (checkov reads the resource's Metadata)
    (alerts.node.defaultChild as CfnResource).addMetadata('checkov', {
      skip: [{ id: 'CKV_AWS_26', comment: 'alert texts name people and cameras and link to a snapshot for an hour, no images; a customer-managed key costs more than this example' }],
    });
    const email: string | undefined = this.node.tryGetContext('alertEmail');
    if (email) {
      alerts.addSubscription(new subscriptions.EmailSubscription(email));
    }

    // readable notifications (README: Notifications): "alice at front-door", the time in your zone,
    // the similarity and a link to the face snapshot; one function publishes both
    const timeZone: string = this.node.tryGetContext('timeZone') ?? 'UTC';
    this.pipeline.notify('NotifyKnownFaces', alerts, { minSimilarity: 90, timeZone });
    this.pipeline.notify('NotifyUnknownFaces', alerts, { matches: false, unknownFaces: true, cameras: ['front-door'], timeZone });

    new CfnOutput(this, 'CollectionId', { value: this.pipeline.collection.collectionId });
    new CfnOutput(this, 'AlertTopic', { value: alerts.topicArn });
    new CfnOutput(this, 'EnrollmentBucket', { value: this.pipeline.enrollment!.bucket.bucketName });
    for (const camera of this.pipeline.cameras) {
      new CfnOutput(this, `${camera.cameraName}-VideoStream`, { value: camera.videoStream.streamName });
      if (camera.streamProcessor) {
        new CfnOutput(this, `${camera.cameraName}-StreamProcessor`, { value: camera.streamProcessor.streamProcessorName });
      }
    }
  }
}
