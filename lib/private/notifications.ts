import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { NotifierInput } from '../runtime/face-notifier/input';
import type { FaceNotificationOptions } from '../face-notifications';
import type { SnapshotStore } from '../snapshots';
import { FaceEventRuleScope, faceMatchRule, unknownFaceRule } from './face-event-rules';
import { ack, ackWildcard } from './nag';
import { failureQueue, handlerFunction } from './resources';
import { show } from './validate';

/** Longest link: the longest role session STS gives (a presigned URL dies with its credentials). */
const MAX_LINK_SECONDS = 12 * 3600;
const MIN_LINK_SECONDS = 60;
const NOTIFIER_ID = 'FaceStreamPipelineNotifier';

/**
 * Adds a notification: rule(s) on the consumer's face events, targeting the stack's one notifier
 * function with this notification's settings. Answers the rules (matches first).
 */
export function addNotification(
  scope: Construct,
  id: string,
  on: FaceEventRuleScope,
  topic: sns.ITopic,
  options: FaceNotificationOptions,
  snapshots: SnapshotStore | undefined,
): events.Rule[] {
  const matches = options.matches ?? true;
  const unknownFaces = options.unknownFaces ?? false;
  if (!matches && !unknownFaces) {
    throw new Error(`notification "${id}": matches and unknownFaces are both false, so it would never notify; set matches: true (the default) and/or unknownFaces: true`);
  }
  if (!matches && (options.externalImageIds !== undefined || options.minSimilarity !== undefined)) {
    throw new Error(`notification "${id}": externalImageIds and minSimilarity filter matches, which matches: false leaves out; remove them or set matches: true`);
  }
  if (topic.fifo) {
    throw new Error(`notification "${id}": the topic is a FIFO topic, which e-mail and SMS cannot subscribe to; give a standard topic`);
  }
  const timeZone = resolveTimeZone(options.timeZone ?? 'UTC');
  const linkSeconds = options.linkExpiry?.toSeconds({ integral: false }) ?? 3600;
  if (!Number.isInteger(linkSeconds) || linkSeconds < MIN_LINK_SECONDS || linkSeconds > MAX_LINK_SECONDS) {
    throw new Error(`linkExpiry must be whole seconds from 1 minute to 12 hours (a link signed with the notifier's temporary credentials cannot outlive them), got ${show(options.linkExpiry?.toHumanString())}`);
  }

  const notifier = FaceNotifier.of(Stack.of(scope));
  notifier.allowPublish(topic);
  if (snapshots) {
    notifier.allowRead(snapshots);
  }
  const input: Omit<NotifierInput, 'detail'> & { detail: string } = {
    detail: events.EventField.fromPath('$.detail'),
    topicArn: topic.topicArn,
    timeZone,
    linkExpirySeconds: linkSeconds,
    ...(snapshots ? { snapshotBucket: snapshots.bucket.bucketName, snapshotPrefix: snapshots.keyPrefix } : {}),
  };
  const target = notifier.target(events.RuleTargetInput.fromObject(input));
  const group = new Construct(scope, id);
  const rules: events.Rule[] = [];
  if (matches) {
    rules.push(
      faceMatchRule(group, 'Matches', on, {
        externalImageIds: options.externalImageIds,
        cameras: options.cameras,
        minSimilarity: options.minSimilarity,
        target,
      }),
    );
  }
  if (unknownFaces) {
    rules.push(unknownFaceRule(group, 'UnknownFaces', on, { cameras: options.cameras, target }));
  }
  return rules;
}

/** The canonical IANA name of `timeZone`, or a clear error. */
function resolveTimeZone(timeZone: string): string {
  if (Token.isUnresolved(timeZone)) {
    throw new Error('timeZone must be a concrete IANA time zone name such as "Europe/Paris", not a token');
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`timeZone must be an IANA time zone name such as "UTC", "Europe/Paris" or "America/New_York", got ${show(timeZone)}`);
  }
}

/**
 * The stack's one notifier function, whatever the number of notifications: each adds rules
 * targeting it, a grant to publish to its topic and one to read its pipeline's snapshots.
 * Failed invocations (after Lambda's retries) and undeliverable events (after EventBridge's)
 * go to its failure queue.
 */
class FaceNotifier extends Construct {
  public static of(stack: Stack): FaceNotifier {
    return (stack.node.tryFindChild(NOTIFIER_ID) as FaceNotifier | undefined) ?? new FaceNotifier(stack, NOTIFIER_ID);
  }

  public readonly function: lambda.Function;
  public readonly failureQueue: sqs.Queue;
  private readonly topics = new Set<sns.ITopic>();
  private readonly stores = new Set<SnapshotStore>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.failureQueue = failureQueue(this, 'FailureQueue');
    Validations.of(this.failureQueue).acknowledge(
      ack('AwsSolutions-SQS3', "this queue is the notifier's dead-letter queue (failed invocations, and events EventBridge could not deliver); it needs no queue of its own"),
    );
    const queueArn = this.failureQueue.queueArn;
    this.function = handlerFunction(this, 'Function', {
      asset: 'face-notifier',
      description: 'publishes readable face notifications (who, camera, time, snapshot link) to SNS topics',
      environment: {},
      // the on-failure destination is written with the function's role: granted below
      extra: { retryAttempts: 2, maxEventAge: Duration.hours(1), onFailure: { bind: () => ({ destination: queueArn }) } },
    });
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queueArn] }));
  }

  /** A target of a rule: this function, with the rule's input; EventBridge's own retries, then the failure queue. */
  public target(input: events.RuleTargetInput): events.IRuleTarget {
    return new targets.LambdaFunction(this.function, { event: input, retryAttempts: 20, maxEventAge: Duration.hours(1), deadLetterQueue: this.failureQueue });
  }

  public allowPublish(topic: sns.ITopic): void {
    if (!this.topics.has(topic)) {
      this.topics.add(topic);
      // sns:Publish on the topic; an encrypted topic's key for SNS to encrypt the message with (no kms:GenerateDataKey* wildcard)
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
      topic.masterKey?.grant(this.function, 'kms:Decrypt', 'kms:GenerateDataKey');
    }
  }

  public allowRead(store: SnapshotStore): void {
    if (!this.stores.has(store)) {
      this.stores.add(store);
      store.grantRead(this.function);
      ackWildcard(this, store.objectsArn, "the notifier presigns links to face snapshots, whose keys (camera, day, sighting) are known only from each event: it may read objects under the snapshot store's key prefix, nothing else");
    }
  }
}
