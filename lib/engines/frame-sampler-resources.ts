import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { skipCheckov } from '../private/checkov';
import { ack } from '../private/nag';
import { handlerFunction } from '../private/resources';
import { rootStack } from '../private/stacks';

const SAMPLER_ID = 'cdk-face-stream-pipeline.FrameSampler';
/** The state table key of a camera's row: `camera|<id>`. */
export const CAMERA_STATE_KEY_PREFIX = 'camera|';
const BUDGET_ID = 'cdk-face-stream-pipeline.RekognitionBudget';
/** The sampler's memory: its peak RSS (bench latency) with room to spare; also the GB-s per camera-hour of live mode. */
export const SAMPLER_MEMORY_MB = 256;

/**
 * A table of the sampler's short-lived rows (key `pk`, on demand, encrypted, deleted with the stack):
 * nothing in it outlives a minute of live video, so point-in-time recovery is acknowledged off.
 */
function samplerTable(scope: Construct, id: string, holds: string): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Validations.of(table).acknowledge(ack('AwsSolutions-DDB3', `${holds}: nothing to recover to a point in time`));
  skipCheckov(table, 'CKV_AWS_28', `${holds}: nothing to recover to a point in time`);
  skipCheckov(table, 'CKV_AWS_119', 'encrypted at rest with the AWS managed key: one table per stack, shared by the frame-sampling cameras of every pipeline in it, holding stream positions, leases, tracked faces and call counts, never images');
  return table;
}

/**
 * What every camera on the frame-sampling engine shares, once per stack (found by a fixed id in
 * the construct tree, never module state): the sampler function, its state table (positions,
 * leases, tracked faces, the Rekognition budget) and the role EventBridge Scheduler uses to invoke
 * the sampler and to start and stop cameras. The cameras' configuration travels in their schedules'
 * input, so the function's environment does not grow with cameras; its permissions grow by one
 * resource per camera and statement, or not at all with a stream name prefix.
 */
export class FrameSamplerResources extends Construct {
  /**
   * The sampler of `scope`'s root stack. With `budgetScope` in another root stack (a site's hub), its
   * Rekognition budget rows live there: in that stack's sampler state table, or in a budget table
   * made there for its sites (which that stack's own sampler then uses too, whichever comes first).
   */
  public static getOrCreate(scope: Construct, budgetScope?: IConstruct): FrameSamplerResources {
    const stack = rootStack(scope);
    const existing = stack.node.tryFindChild(SAMPLER_ID) as FrameSamplerResources | undefined;
    if (existing) {
      return existing;
    }
    const home = budgetScope ? rootStack(budgetScope) : stack;
    let budget: dynamodb.ITable | undefined;
    if (home !== stack) {
      const hubSampler = home.node.tryFindChild(SAMPLER_ID) as FrameSamplerResources | undefined;
      budget = hubSampler?.table ?? (home.node.tryFindChild(BUDGET_ID) as dynamodb.Table | undefined) ?? samplerTable(home, BUDGET_ID, 'the Rekognition call budget is a token bucket refilled every second');
    } else {
      budget = stack.node.tryFindChild(BUDGET_ID) as dynamodb.Table | undefined;
    }
    return new FrameSamplerResources(stack, SAMPLER_ID, budget);
  }

  public readonly table: dynamodb.Table;
  public readonly sampler: lambda.Function;
  public readonly schedulerRole: iam.Role;

  private readonly statements = new Map<string, iam.PolicyStatement>();
  private readonly registered = new Set<string>();
  private readonly policy: iam.Policy;
  private tableUpdatesGranted = false;
  private handOverGranted = false;

  private constructor(scope: Construct, id: string, budget?: dynamodb.ITable) {
    super(scope, id);
    const stack = Stack.of(this);
    this.table = samplerTable(this, 'State', 'the sampler state (positions, leases, tracked faces, call budget) is rebuilt from live video within a minute');
    this.sampler = handlerFunction(this, 'Sampler', {
      asset: 'frame-sampler',
      description: 'samples frames of the cameras on the frame-sampling engine and searches their faces',
      environment: { STATE_TABLE_NAME: this.table.tableName, ...(budget ? { BUDGET_TABLE_NAME: budget.tableName } : {}), REKOGNITION_TPS: '5', POWERTOOLS_LOG_LEVEL: 'INFO' },
      // live: a follower per camera runs up to Lambda's 15 minutes, then hands over (README "Choosing an
      // engine"); 256 MB: the bench's peak RSS at 1280 px frames is well under it. A failed invocation is
      // replaced by the next minute's, not retried (a retry would only find the lease held).
      extra: { timeout: Duration.minutes(15), memorySize: SAMPLER_MEMORY_MB, retryAttempts: 0, maxEventAge: Duration.seconds(60) },
    });
    const role = this.sampler.role!;
    this.table.grant(role, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    if (budget) {
      // the shared budget's rows only (budget|<operation>), not the other cameras' state beside them
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SharedRekognitionBudget',
          actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resources: [budget.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget|*'] } },
        }),
      );
    }
    // DetectFaces supports no resource-level permission (it reads image bytes, no AWS resource).
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DetectFacesSupportsNoResource', actions: ['rekognition:DetectFaces'], resources: ['*'] }));
    Validations.of(role).acknowledge(
      ack('AwsSolutions-IAM5[Resource::*]', 'rekognition:DetectFaces supports no resource-level permission (it analyses the image bytes sent, no AWS resource); it is the only action granted on "*"'),
    );
    this.policy = new iam.Policy(this, 'CameraAccess', { roles: [role as iam.Role] });

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Lets EventBridge Scheduler invoke the face-stream-pipeline frame sampler and start and stop its cameras',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME }) },
        },
      }),
    });
    this.schedulerRole.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.sampler.functionArn] }));
  }

  /** Lets the start and stop schedules write the cameras' `stopped` flag (UpdateItem on the state table). */
  public grantScheduledStartStop(): void {
    if (!this.tableUpdatesGranted) {
      this.tableUpdatesGranted = true;
      // the cameras' rows only (camera|<id>), not the leases, tracked faces and budget beside them
      this.schedulerRole.addToPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [this.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${CAMERA_STATE_KEY_PREFIX}*`] } },
        }),
      );
    }
  }

  /**
   * Live mode: a follower starts its successor by invoking its own function asynchronously. A policy
   * of its own (not the role's default policy, which the function depends on: that would be a cycle).
   */
  public grantHandOver(): void {
    if (!this.handOverGranted) {
      this.handOverGranted = true;
      new iam.Policy(this, 'HandOver', {
        roles: [this.sampler.role as iam.Role],
        statements: [new iam.PolicyStatement({ sid: 'StartSuccessor', actions: ['lambda:InvokeFunction'], resources: [this.sampler.functionArn] })],
      });
    }
  }

  /** Adds `resource` to the statement `sid` (actions, optional conditions) of the sampler's camera policy, once. */
  public allow(sid: string, actions: string[], resource: string, conditions?: Record<string, Record<string, unknown>>): void {
    const key = `${sid}|${JSON.stringify(Stack.of(this).resolve(resource))}`;
    if (this.registered.has(key)) {
      return;
    }
    this.registered.add(key);
    let statement = this.statements.get(sid);
    if (!statement) {
      statement = new iam.PolicyStatement({ sid, actions, conditions });
      this.statements.set(sid, statement);
      this.policy.addStatements(statement);
    }
    statement.addResources(resource);
  }
}
