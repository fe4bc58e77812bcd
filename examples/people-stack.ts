import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
// '../lib/index' (not '../lib'): tsx then loads the TypeScript sources even where compiled lib/*.js exist
import { FaceIdentity, FaceSearchEngine, FaceStreamPipeline } from '../lib/index';

/**
 * Example: "is this Alice?" with Rekognition user vectors (users mode). Every person enrolled with
 * several pictures (`faces/alice/*.jpg`) is one Rekognition user, and the two cameras, on frame
 * sampling (every AWS account; stream processors cannot search users), search people rather than
 * single pictures. Sightings of the people named in the `watchFor` context (default: alice) send an
 * e-mail to `alertEmail`.
 */
export class PeopleStack extends Stack {
  public readonly pipeline: FaceStreamPipeline;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.pipeline = new FaceStreamPipeline(this, 'People', {
      cameras: [{ name: 'entrance' }, { name: 'garden' }],
      engine: FaceSearchEngine.frameSampling(),
      identity: FaceIdentity.users(),
      faceMatchThreshold: 90,
      enrollment: true,
    });

    const alerts = new sns.Topic(this, 'Alerts', { displayName: 'People seen', enforceSSL: true });
    const email: string | undefined = this.node.tryGetContext('alertEmail');
    if (email) {
      alerts.addSubscription(new subscriptions.EmailSubscription(email));
    }
    const watchFor = String(this.node.tryGetContext('watchFor') ?? 'alice').split(',');
    const field = (path: string) => events.EventField.fromPath(path);
    // match.externalImageId is the user (the person) in users mode: the rule is the same as with faces
    this.pipeline.onFaceMatch('AlertOnPeople', {
      externalImageIds: watchFor,
      target: new targets.SnsTopic(alerts, {
        message: events.RuleTargetInput.fromText(
          `${field('$.detail.match.userId')} was seen by camera ${field('$.detail.camera')} at ${field('$.detail.frameTime')} (similarity ${field('$.detail.match.similarity')}%).`,
        ),
      }),
    });
    new CfnOutput(this, 'AlertTopic', { value: alerts.topicArn });
  }
}
