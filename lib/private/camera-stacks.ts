/**
 * Where a pipeline puts its cameras: in its own stack, or spread over nested stacks so that a
 * hundred cameras fit CloudFormation's 500 resources per template.
 *
 * A camera's nested stack follows from its name alone (jump consistent hashing, Lamping & Veach
 * 2014): adding or removing a camera changes its own nested stack and no other, and raising the
 * number of nested stacks from n to n + 1 moves only about 1 / (n + 1) of the cameras.
 */
import { createHash } from 'node:crypto';
import { NestedStack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { checkStackLimits } from './limits';

const MASK = (1n << 64n) - 1n;

/** The bucket (0 .. buckets - 1) of `name`: jump consistent hash of the first 64 bits of its SHA-256. */
export function jumpHash(name: string, buckets: number): number {
  let key = BigInt(`0x${createHash('sha256').update(name).digest('hex').slice(0, 16)}`);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & MASK;
    j = Math.floor((b + 1) * (2 ** 31 / Number((key >> 33n) + 1n)));
  }
  return b;
}

/** The id of the i-th (0-based) nested stack of cameras. */
export const cameraStackId = (i: number) => `Cameras${i + 1}`;

/**
 * The scope a camera named `name` is created in: `pipeline` itself without nested stacks, else
 * its nested stack (created on first use, with its own limit check).
 */
export function cameraScope(pipeline: Construct, name: string, stacks: number | undefined): Construct {
  if (!stacks) {
    return pipeline;
  }
  const id = cameraStackId(jumpHash(name, stacks));
  const existing = pipeline.node.tryFindChild(id);
  if (existing) {
    return existing;
  }
  const nested = new NestedStack(pipeline, id, {
    description: `face-stream-pipeline: cameras of ${pipeline.node.path} (nested stack ${id.slice('Cameras'.length)} of ${stacks})`,
  });
  checkStackLimits(nested);
  return nested;
}
