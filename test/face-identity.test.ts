/**
 * `identity: FaceIdentity.users()`: what it changes in the synthesized app (enrolment's
 * environment and permissions, the sampler's schedule input and permissions), what it refuses
 * at synth time (a stream-processor camera; a site or enrolment options that disagree), and that
 * cdk-nag's AwsSolutions pack finds nothing unacknowledged.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FaceCollection, FaceEnrollment, FaceIdentity, FaceSearchEngine, FaceStreamPipeline } from '../lib';

const USER_ACTIONS = ['rekognition:CreateUser', 'rekognition:DeleteUser', 'rekognition:AssociateFaces', 'rekognition:DisassociateFaces', 'rekognition:ListUsers', 'rekognition:ListFaces'];

function usersPipeline() {
  const app = new App();
  const stack = new Stack(app, 'People');
  const pipeline = new FaceStreamPipeline(stack, 'Faces', {
    cameras: [{ name: 'front-door' }, { name: 'yard' }],
    engine: FaceSearchEngine.frameSampling(),
    identity: FaceIdentity.users(),
    faceMatchThreshold: 90,
    enrollment: true,
  });
  return { app, stack, pipeline };
}

/** Every statement of the stack's policies that allows one of these actions. */
function statementsWith(template: Template, actions: string[]): any[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().some((a: string) => actions.includes(a)));
}

test('users mode: enrolment keeps users, with the user actions on the collection only', () => {
  const { stack, pipeline } = usersPipeline();
  const t = Template.fromStack(stack);
  expect(pipeline.identity.mode).toBe('users');
  expect(pipeline.enrollment!.identity.usesUsers).toBe(true);
  t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ IDENTITY: 'users', COLLECTION_ID: Match.anyValue() }) } });
  const granted = statementsWith(t, USER_ACTIONS);
  expect(granted).toHaveLength(1);
  expect([granted[0].Action].flat().sort()).toEqual([...USER_ACTIONS].sort());
  const collectionArn = stack.resolve((pipeline.collection as FaceCollection).collectionArn);
  expect(granted[0].Resource).toEqual(collectionArn);
});

test('users mode: every frame-sampling camera searches users (SearchUsersByImage, UserMatchThreshold from faceMatchThreshold)', () => {
  const { stack, pipeline } = usersPipeline();
  const t = Template.fromStack(stack);
  const schedules = Object.values(t.findResources('AWS::Scheduler::Schedule')).filter((r) => r.Properties.ScheduleExpression === 'rate(1 minute)');
  expect(schedules).toHaveLength(2);
  for (const s of schedules) {
    const input = JSON.stringify(stack.resolve(s.Properties.Target.Input));
    expect(input).toContain('\\"identity\\":\\"users\\"');
    expect(input).toContain('\\"faceMatchThreshold\\":90');
  }
  const search = statementsWith(t, ['rekognition:SearchUsersByImage', 'rekognition:SearchFacesByImage']);
  expect(search).toEqual([expect.objectContaining({ Action: 'rekognition:SearchUsersByImage', Resource: stack.resolve((pipeline.collection as FaceCollection).collectionArn) })]);
});

test('faces mode (the default) synthesizes as before: no identity field, no user actions', () => {
  const app = new App();
  const stack = new Stack(app, 'Faces');
  const pipeline = new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'yard' }], engine: FaceSearchEngine.frameSampling(), enrollment: true });
  const t = Template.fromStack(stack);
  expect(pipeline.identity.mode).toBe('faces');
  expect(JSON.stringify(t.toJSON())).not.toMatch(/IDENTITY|identity|User/);
  expect(statementsWith(t, ['rekognition:SearchFacesByImage'])).toHaveLength(1);
});

test('users mode with a stream-processor camera fails at synth time, saying why and what to do', () => {
  const stack = new Stack(new App(), 'Mixed');
  expect(
    () =>
      new FaceStreamPipeline(stack, 'Faces', {
        cameras: [{ name: 'yard' }, { name: 'lobby', engine: FaceSearchEngine.streamProcessor() }],
        engine: FaceSearchEngine.frameSampling(),
        identity: FaceIdentity.users(),
      }),
  ).toThrow(
    /Camera "lobby": identity FaceIdentity.users\(\) needs the frame-sampling engine: Rekognition stream processors search faces only.*Give this camera engine: FaceSearchEngine.frameSampling\(\), or use identity: FaceIdentity.faces\(\)/,
  );
  // the default engine is a stream processor: users mode needs frame sampling said
  expect(() => new FaceStreamPipeline(new Stack(new App(), 'Default'), 'Faces', { cameras: [{ name: 'yard' }], identity: FaceIdentity.users() })).toThrow(/Camera "yard": identity FaceIdentity.users\(\) needs the frame-sampling engine/);
});

test('a site takes its hub\'s identity, and refuses another; enrolment options must agree with the pipeline', () => {
  const { stack, pipeline: hub } = usersPipeline();
  const site = new FaceStreamPipeline(stack, 'Site', { hub, cameras: [{ name: 'gate' }], engine: FaceSearchEngine.frameSampling() });
  expect(site.identity.mode).toBe('users');
  expect(() => new FaceStreamPipeline(stack, 'Other', { hub, identity: FaceIdentity.faces() })).toThrow(/a site searches its hub's collection the hub's way.*Remove identity here/);
  expect(
    () => new FaceStreamPipeline(new Stack(new App(), 'S'), 'Faces', { identity: FaceIdentity.faces(), enrollmentOptions: { identity: FaceIdentity.users() } }),
  ).toThrow(/identity is FaceIdentity.faces\(\) but enrollmentOptions.identity is FaceIdentity.users\(\)/);
  // enrolment options alone choose it for the pipeline
  const alone = new FaceStreamPipeline(new Stack(new App(), 'E'), 'Faces', { enrollmentOptions: { identity: FaceIdentity.users() }, engine: FaceSearchEngine.frameSampling() });
  expect(alone.identity.mode).toBe('users');
});

test('FaceEnrollment on its own (an imported collection) takes identity too', () => {
  const stack = new Stack(new App(), 'Alone');
  const enrollment = new FaceEnrollment(stack, 'Enrollment', { collection: FaceCollection.fromCollectionId(stack, 'C', 'staff'), identity: FaceIdentity.users() });
  expect(enrollment.identity.mode).toBe('users');
  const t = Template.fromStack(stack);
  t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ IDENTITY: 'users' }) } });
  expect(statementsWith(t, ['rekognition:CreateUser'])).toHaveLength(1);
});

test('AwsSolutions finds nothing unacknowledged in a users-mode pipeline', () => {
  const { app } = usersPipeline();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
