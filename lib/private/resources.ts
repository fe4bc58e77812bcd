import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { skipCheckov, skipLambdaChecks } from './checkov';
import { LIBRARY_VERSION } from './version';

/** The handler bundles built by `npm run bundle` (scripts/bundle.mjs), shipped in the package. */
export function handlerAsset(name: string): string {
  return path.join(__dirname, '..', '..', 'assets', name);
}

export interface HandlerFunctionOptions {
  /** The folder of assets/ holding the bundle. */
  readonly asset: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** The exported function of the bundle. @default 'index.handler' */
  readonly handler?: string;
  /** A role shared with other functions. @default - a new role, granted the log group */
  readonly role?: iam.IRole;
  /** A log group shared with other functions. @default - a new one, `Logs` in `scope` */
  readonly logGroup?: logs.ILogGroup;
  /** Anything else for lambda.Function (timeout, async invoke settings, ...). */
  readonly extra?: Partial<lambda.FunctionProps>;
}

/** A log group with a retention (one month by default), deleted with the stack. */
export function retainedLogGroup(scope: Construct, id: string, retention = logs.RetentionDays.ONE_MONTH): logs.LogGroup {
  const logGroup = new logs.LogGroup(scope, id, { retention, removalPolicy: RemovalPolicy.DESTROY });
  skipCheckov(logGroup, 'CKV_AWS_158', 'CloudWatch Logs encrypts log data at rest; the handlers log outcomes, ids and reasons, never images or record data, so no customer-managed key (whose policy would have to trust the logs service) is needed');
  return logGroup;
}

/**
 * A handler function as every construct here makes it: the bundled asset, Node.js 24 on arm64, its
 * own log group with a retention (so the role needs no AWSLambdaBasicExecutionRole).
 */
export function handlerFunction(scope: Construct, id: string, options: HandlerFunctionOptions): lambda.Function {
  const logGroup = options.logGroup ?? retainedLogGroup(scope, 'Logs', options.logRetention);
  let role = options.role;
  if (!role) {
    role = lambdaRole(scope, `${id}Role`, `Runs the face-stream-pipeline function ${scope.node.path}/${id}`);
    logGroup.grantWrite(role);
  }
  const fn = new lambda.Function(scope, id, {
    role,
    description: `face-stream-pipeline: ${options.description}`,
    code: lambda.Code.fromAsset(handlerAsset(options.asset)),
    handler: options.handler ?? 'index.handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.minutes(1),
    logGroup,
    environment: { ...options.environment, LIBRARY_VERSION },
    ...options.extra,
  });
  skipLambdaChecks(
    fn,
    options.extra?.onFailure
      ? 'failed asynchronous invocations go to its on-failure destination (a queue, with the request and the error), which AWS recommends over a dead-letter queue'
      : 'no asynchronous invocation whose event could be lost: it is invoked synchronously (an event source mapping, with its own on-failure destination, or CloudFormation\'s provider framework) or by a schedule whose next run replaces a failed one',
  );
  return fn;
}

/** A role for Lambda with no managed policy: logs are granted on the function's own log group only. */
export function lambdaRole(scope: Construct, id: string, description: string): iam.Role {
  return new iam.Role(scope, id, {
    description: description.slice(0, 1000),
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
}

/** A queue for what could not be handled: encrypted (SQS-managed or the given key), TLS only, 14 days. */
export function failureQueue(scope: Construct, id: string, key?: kms.IKey): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  if (!key) {
    skipCheckov(queue, 'CKV_AWS_27', 'encrypted at rest with SQS-managed keys (SSE-SQS); the pipeline\'s encryptionKey encrypts it with a customer-managed key instead');
  }
  return queue;
}
