/**
 * The naming scheme of stream processors and their service roles, in one place: generated
 * processor names are `<NamePrefix>-<12 hex digits>` (the digits appended by the handler,
 * lib/runtime/stream-processor/properties.ts `generatedName`), NamePrefix starts with the stack's
 * prefix, and the service roles live under an IAM path made of the same prefix. IAM patterns (the
 * provider's, the health check's) and the health check's name filter are built from these.
 */
import { createHash } from 'node:crypto';
import { ArnFormat, Names, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { rootRelativePath, rootStack } from './stacks';

const hash8 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);
const nameSafe = (text: string) => text.replace(/[^a-zA-Z0-9_.-]/g, '');

/**
 * The prefix of every generated processor name of a stack: `<stack name, at most 40 characters>-<8
 * hex digits of its hash>`. IAM (the health check's DescribeStreamProcessor) and the health check's
 * name filter use it; the hash keeps stack "Prod" from matching stack "Prod-EU"'s processors.
 */
export function processorStackPrefix(scope: Construct): string {
  // the root stack's: processors in the pipeline's nested stacks share its provider and health check
  const stack = rootStack(scope);
  // a nested stack's name is a token: its construct path identifies it instead
  const name = Token.isUnresolved(stack.stackName) ? Names.uniqueId(stack) : stack.stackName;
  return `${nameSafe(name).slice(0, 40) || 'Stack'}-${hash8(name)}`;
}

/**
 * The NamePrefix of a processor: `<stack prefix>-<construct path in the stack, cut to fit>-<8 hex
 * digits of that path's hash>`, at most 100 characters. The handler appends `-<12 hex digits>`.
 */
export function processorNamePrefix(scope: Construct): string {
  const stackPrefix = processorStackPrefix(scope);
  const path = rootRelativePath(scope);
  const hash = hash8(path).toUpperCase();
  const room = 100 - stackPrefix.length - hash.length - 2;
  const human = path.split('/').map(nameSafe).filter((part) => part.length > 0).join('-');
  const cut = human.length > room ? `${human.slice(0, Math.floor(room / 2))}${human.slice(human.length - Math.ceil(room / 2))}` : human;
  return `${stackPrefix}-${cut ? `${cut}-` : ''}${hash}`;
}

/** The ARN of the stream processor(s) named `name` (a name or a `prefix*` pattern). */
export function processorArn(scope: Construct, name: string): string {
  return Stack.of(scope).formatArn({ service: 'rekognition', resource: 'streamprocessor', resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

/**
 * The IAM path of the service roles this library creates in a stack: iam:PassRole is granted on
 * `role<path>*`, one pattern whatever the number of roles, and no other stack's roles.
 */
export function serviceRolePath(scope: Construct): string {
  return `/face-stream-pipeline/${processorStackPrefix(scope)}/`;
}

/** 8 hex digits naming a processor (or a name pattern) in construct ids: the same name, the same id. */
export function nameHash(scope: Construct, name: string): string {
  const text = Token.isUnresolved(name) ? JSON.stringify(Stack.of(scope).resolve(name)) : name;
  return createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase();
}
