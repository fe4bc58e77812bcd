/**
 * What the FaceSearchConsumer needs to know about the data streams it reads: which carry their
 * camera in their name, and what reading one takes.
 */
import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { IConstruct } from 'constructs';
import { rootStack } from './stacks';
import { CAMERA_NAME, validateName } from './validate';

/** What the event source mapping reads from a data stream (lambda.amazonaws.com, with the function's role). */
export const STREAM_READ_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
  'kinesis:ListStreams',
  'kinesis:SubscribeToShard',
];

/**
 * The camera a data stream carries in its name: a `kinesis.Stream` of this app (same account and
 * Region as `scope`) whose concrete name is `<prefix><camera>`; undefined for any other stream.
 */
export function prefixedStreamCamera(stream: kinesis.IStream, prefix: string, scope: IConstruct): string | undefined {
  const cfn = stream.node.defaultChild;
  if (!cfn || !CfnResource.isCfnResource(cfn) || cfn.cfnResourceType !== kinesis.CfnStream.CFN_RESOURCE_TYPE_NAME) {
    return undefined;
  }
  const name = (cfn as kinesis.CfnStream).name;
  if (typeof name !== 'string' || Token.isUnresolved(name) || !name.startsWith(prefix) || !sameEnvironment(stream, scope)) {
    return undefined;
  }
  const camera = name.slice(prefix.length);
  validateName(`the camera in the name of the data stream ${stream.node.path} (after "${prefix}")`, camera, CAMERA_NAME);
  return camera;
}

/**
 * Whether a construct deploys to the same account and Region as another: the same root stack, the
 * same concrete environment, or two environment-agnostic stacks of one app (which the CDK lets
 * reference each other only because they deploy together, to one environment).
 */
function sameEnvironment(a: IConstruct, b: IConstruct): boolean {
  const sa = rootStack(a);
  const sb = rootStack(b);
  if (sa === sb) {
    return true;
  }
  const agnostic = (s: Stack) => Token.isUnresolved(s.region) && Token.isUnresolved(s.account);
  if (agnostic(sa) && agnostic(sb)) {
    return true;
  }
  const concrete = (v: string) => !Token.isUnresolved(v);
  return concrete(sa.region) && concrete(sa.account) && sa.region === sb.region && sa.account === sb.account;
}
