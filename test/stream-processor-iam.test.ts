/**
 * StreamProcessor IAM across deployments, read from before/after templates: the permissions to
 * stop and delete a processor live in a policy its custom resource depends on, which the update
 * neither modifies nor deletes before the processor (never withdrawn in CloudFormation's UPDATE
 * phase while the processor is deleted later, in the clean-up phase): the stack's constant
 * ProcessorAccess, or a processor's own policy, deleted with it; nothing grows with the number of
 * processors; one role per processor.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { FaceCollection, StreamProcessor, StreamProcessorProps, VideoStream } from '../lib';
import { testStack } from './support/stacks';

type Resources = Record<string, any>;

function processor(scope: Construct, id: string, overrides: Partial<StreamProcessorProps> = {}): StreamProcessor {
  const stack = Stack.of(scope);
  const collection = (stack.node.tryFindChild('Faces') as FaceCollection | undefined) ?? new FaceCollection(stack, 'Faces');
  return new StreamProcessor(scope, id, {
    videoStream: new VideoStream(scope, `${id}Video`),
    dataStream: new kinesis.Stream(scope, `${id}Data`, { shardCount: 1, encryption: kinesis.StreamEncryption.MANAGED }),
    collection,
    ...overrides,
  });
}

function synth(build: (stack: Stack) => void): Resources {
  const stack = testStack();
  build(stack);
  return Template.fromStack(stack).toJSON().Resources;
}

function processorResource(resources: Resources, idPrefix: string): [string, any] {
  const found = Object.entries(resources).filter(([id, r]) => r.Type === 'Custom::RekognitionStreamProcessor' && id.startsWith(idPrefix));
  expect(found).toHaveLength(1);
  return found[0];
}

/** The names a processor resource stands for, as they appear at the end of its ARNs. */
function namePattern(resource: any): string {
  return resource.Properties.Name ?? `${resource.Properties.NamePrefix}-*`;
}

/** Logical ids of the policies allowing both Stop and Delete on every name of `pattern`. */
function stopDeleteHolders(resources: Resources, pattern: string): string[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .filter(([, r]) =>
      r.Properties.PolicyDocument.Statement.some((s: any) => {
        const actions = [s.Action].flat();
        const arns = [s.Resource].flat().map((x: unknown) => JSON.stringify(x));
        return (
          s.Effect === 'Allow' &&
          actions.includes('rekognition:StopStreamProcessor') &&
          actions.includes('rekognition:DeleteStreamProcessor') &&
          arns.some((arn) => {
            // the statement's ARN pattern covers every name of `pattern`
            const covered = /:streamprocessor\/([^"]*)"\]\]\}$/.exec(arn)?.[1];
            return covered !== undefined && (covered === pattern || (covered.endsWith('*') && pattern.startsWith(covered.slice(0, -1))));
          })
        );
      }),
    )
    .map(([id]) => id);
}

/** Policies in both templates whose properties changed: CloudFormation updates those in its UPDATE phase. */
function modifiedPolicies(before: Resources, after: Resources): string[] {
  return Object.keys(before).filter(
    (id) => before[id].Type === 'AWS::IAM::Policy' && after[id] && JSON.stringify(after[id].Properties) !== JSON.stringify(before[id].Properties),
  );
}

/**
 * The old processor `oldId` can still be stopped and deleted in the clean-up phase: its Stop/Delete
 * statement is in a policy it depends on, that the update neither modifies nor keeps (CloudFormation
 * deletes it in the clean-up phase, after the processor that depends on it).
 */
function expectDeletePermissionsOutliveTheProcessor(before: Resources, after: Resources, oldId: string): void {
  const [, old] = processorResource(before, oldId);
  const holders = stopDeleteHolders(before, namePattern(old));
  expect(holders.length).toBeGreaterThan(0);
  for (const holder of holders) {
    expect(old.DependsOn).toContain(holder);
  }
  // unchanged by the update: kept as it is (the stack's constant policy) or deleted with the processor
  expect(modifiedPolicies(before, after)).toEqual([]);
}

describe('delete-time permissions leave the stack only with their processor', () => {
  test('removing a processor', () => {
    const before = synth((stack) => {
      processor(stack, 'A');
      processor(stack, 'B');
    });
    const after = synth((stack) => {
      processor(stack, 'A');
    });
    expectDeletePermissionsOutliveTheProcessor(before, after, 'B');
  });

  test('renaming a processor with a fixed name (the custom resource is replaced)', () => {
    const before = synth((stack) => {
      processor(stack, 'A');
      processor(stack, 'B', { streamProcessorName: 'lobby' });
    });
    const after = synth((stack) => {
      processor(stack, 'A');
      processor(stack, 'B', { streamProcessorName: 'lobby-v2' });
    });
    const [oldId] = processorResource(before, 'B');
    const [newId, renamed] = processorResource(after, 'B');
    expect(newId).toBe(oldId); // the same resource, replaced: the old processor is deleted in the clean-up phase
    expectDeletePermissionsOutliveTheProcessor(before, after, 'B');
    const [oldHolder] = stopDeleteHolders(before, 'lobby');
    expect(after[oldHolder]).toBeUndefined(); // deleted in the clean-up phase, after the old processor
    // and the new name has its own policy, created before the new processor
    const holders = stopDeleteHolders(after, 'lobby-v2');
    expect(holders).toHaveLength(1);
    expect(renamed.DependsOn).toContain(holders[0]);
  });

  test('moving a processor to another construct path (a new NamePrefix)', () => {
    const before = synth((stack) => {
      processor(stack, 'A');
      processor(stack, 'B');
    });
    const after = synth((stack) => {
      processor(stack, 'A');
      processor(new Construct(stack, 'Lobby'), 'B');
    });
    expectDeletePermissionsOutliveTheProcessor(before, after, 'B');
    const [, moved] = processorResource(after, 'Lobby');
    expect(namePattern(moved)).not.toBe(namePattern(processorResource(before, 'B')[1]));
  });

  test('changing a setting that replaces the processor keeps every policy as it is', () => {
    const before = synth((stack) => {
      processor(stack, 'A', { faceMatchThreshold: 90 });
    });
    const after = synth((stack) => {
      processor(stack, 'A', { faceMatchThreshold: 95 });
    });
    expect(modifiedPolicies(before, after)).toEqual([]);
  });
});

describe('nothing grows with the number of processors', () => {
  function build(count: number): Resources {
    return synth((stack) => {
      for (let i = 0; i < count; i++) {
        processor(stack, `Camera${String(i).padStart(3, '0')}`);
      }
    });
  }
  // 40 processors: past the 39 at which the old health check's PROCESSORS variable passed 4 KB
  // (the 500-resource limit of a stack stops a test at about 80)
  let one: Resources;
  let many: Resources;
  beforeAll(() => {
    one = build(1);
    many = build(40);
  });
  const sizes = (resources: Resources, type: string, match: (id: string, r: any) => boolean) =>
    Object.entries(resources)
      .filter(([id, r]) => r.Type === type && match(id, r))
      .map(([, r]) => JSON.stringify(r.Properties).length);

  test('no policy of the handler role or the health check role is larger with 40 processors, and none is added', () => {
    const shared = (id: string) => id.startsWith('cdkfacestreampipeline');
    expect(sizes(many, 'AWS::IAM::Policy', shared)).toEqual(sizes(one, 'AWS::IAM::Policy', shared));
    const handlerPolicies = (resources: Resources) =>
      Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('StreamProcessorProviderHandlerRole')).length;
    expect(handlerPolicies(many)).toBe(handlerPolicies(one));
  });

  test('no Lambda environment is larger with 40 processors', () => {
    const env = (resources: Resources) =>
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([id, r]) => [id, JSON.stringify(r.Properties.Environment ?? {})]);
    expect(env(many)).toEqual(env(one));
  });

  test('each processor adds 3 resources: the custom resource, its service role and that role\'s policy', () => {
    const two = build(2);
    const added = Object.keys(two).filter((id) => !one[id] && !/Video|Data/.test(id));
    expect(added.map((id) => two[id].Type).sort()).toEqual(['AWS::IAM::Policy', 'AWS::IAM::Role', 'Custom::RekognitionStreamProcessor']);
  });
});

describe('one service role per processor', () => {
  test('each trusts only its own processor names and may only use its own streams', () => {
    const resources = synth((stack) => {
      processor(stack, 'A');
      processor(stack, 'B');
    });
    for (const id of ['A', 'B']) {
      const [, cr] = processorResource(resources, id);
      const roleId = cr.Properties.RoleArn['Fn::GetAtt'][0];
      expect(roleId.startsWith(`${id}ServiceRole`)).toBe(true);
      const trust = resources[roleId].Properties.AssumeRolePolicyDocument.Statement;
      expect(trust).toHaveLength(1);
      expect(JSON.stringify(trust[0].Condition.ArnLike['aws:SourceArn'])).toContain(`:streamprocessor/${namePattern(cr)}"`);
      const policy = Object.values(resources).find((r: any) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles[0].Ref === roleId) as any;
      const named = JSON.stringify(policy.Properties.PolicyDocument);
      expect(named).toContain(`"${id}Video`);
      expect(named).toContain(`"${id}Data`);
      expect(named).not.toContain(`"${id === 'A' ? 'B' : 'A'}Video`);
      expect(named).not.toContain(`"${id === 'A' ? 'B' : 'A'}Data`);
    }
  });
});
