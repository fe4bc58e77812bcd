import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The top-level stack `scope` deploys with: its own stack, or the parent of its nested stacks.
 * What a library's cameras share (the processor provider, the health check, the frame sampler) lives
 * there once, however many nested stacks hold the cameras.
 */
export function rootStack(scope: IConstruct): Stack {
  let stack = Stack.of(scope);
  while (stack.nestedStackParent) {
    stack = stack.nestedStackParent;
  }
  return stack;
}

/** The construct path of `scope` below its root stack: the same whether or not nested stacks are in between. */
export function rootRelativePath(scope: IConstruct): string {
  const root = rootStack(scope);
  const scopes = scope.node.scopes;
  return scopes
    .slice(scopes.indexOf(root) + 1)
    .map((c) => c.node.id)
    .join('/');
}
