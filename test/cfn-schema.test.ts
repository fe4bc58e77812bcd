/**
 * The synthesized templates against CloudFormation's resource provider schemas (offline, with AWS's
 * `@aws/cloudformation-validate`, see test/support/cfn-schema.ts): the example app, a pipeline
 * mixing both engines with every feature on, and a standalone frame-sampling camera, every
 * template of each cloud assembly (nested stacks' included). Then the check itself: each kind of
 * defect planted in a clean template is reported, at the right resource and property; intrinsic
 * functions and allow-listed types are not.
 */
import { NestedStack, Stack } from 'aws-cdk-lib';
import * as kinesisvideo from 'aws-cdk-lib/aws-kinesisvideo';
import type * as cxapi from 'aws-cdk-lib/cx-api';
import { Camera, FaceCollection, FaceSearchEngine } from '../lib';
import { everyOptionApp, exampleApp, hubAndSiteApp, newApp, removeAppDirs } from './fixtures/apps';
import { CfnFinding, CfnSchemaChecker, CfnTemplateReport, formatFindings } from './support/cfn-schema';

let checker: CfnSchemaChecker;

beforeAll(() => {
  checker = new CfnSchemaChecker();
});

afterAll(() => {
  checker?.dispose();
  removeAppDirs();
});

function check(assembly: cxapi.CloudAssembly): { reports: CfnTemplateReport[]; findings: CfnFinding[]; types: Set<string> } {
  const reports = checker.checkAssembly(assembly);
  return {
    reports,
    findings: reports.flatMap((r) => r.findings),
    types: new Set(reports.flatMap((r) => Object.keys(r.resourceTypes))),
  };
}

describe('synthesized templates', () => {
  test('the example app (two stream-processor cameras, the frame-sampling yard, enrolment), as `cdk synth` writes it', () => {
    const { reports, findings, types } = check(exampleApp());

    expect(reports.map((r) => [r.template, r.region])).toContainEqual(['FaceStreamPipelineExample.template.json', 'us-east-1']);
    expect([...types]).toEqual(expect.arrayContaining(['AWS::CDK::Metadata', 'Custom::RekognitionStreamProcessor', 'AWS::Scheduler::Schedule', 'AWS::KinesisVideo::Stream', 'AWS::Rekognition::Collection', 'AWS::S3::Bucket', 'AWS::SNS::Topic']));
    expect(checker.describe(findings)).toBe('');
  });

  test('a pipeline mixing both engines with enrolment, alarms and their actions, dashboard, schedule and a customer-managed key, in its Region', () => {
    const { reports, findings, types } = check(everyOptionApp());

    expect(reports.map((r) => [r.template, r.region])).toContainEqual(['Mixed.template.json', 'eu-west-1']);
    expect([...types]).toEqual(
      expect.arrayContaining(['Custom::RekognitionStreamProcessor', 'AWS::Scheduler::Schedule', 'AWS::KMS::Key', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard', 'AWS::DynamoDB::Table', 'AWS::Lambda::EventSourceMapping', 'AWS::StepFunctions::StateMachine']),
    );
    expect(checker.describe(findings)).toBe('');
  });

  test('cameras in nested stacks (both engines), and a site sharing its hub: every template, with cross-stack references', () => {
    const { reports, findings, types } = check(hubAndSiteApp());

    expect(reports.filter((r) => r.template.endsWith('.nested.template.json'))).toHaveLength(2);
    expect(reports.map((r) => r.template)).toEqual(expect.arrayContaining(['Hub.template.json', 'Site.template.json']));
    expect([...types]).toEqual(expect.arrayContaining(['AWS::CloudFormation::Stack', 'Custom::RekognitionStreamProcessor', 'AWS::Lambda::EventSourceMapping']));
    expect(checker.describe(findings)).toBe('');
  });

  test('a standalone frame-sampling camera', () => {
    const app = newApp();
    const stack = new Stack(app, 'Standalone');
    new Camera(stack, 'Yard', { name: 'yard', collection: new FaceCollection(stack, 'Faces'), engine: FaceSearchEngine.frameSampling() });
    const { reports, findings, types } = check(app.synth());

    expect(reports.map((r) => r.template)).toContain('Standalone.template.json');
    expect([...types]).toEqual(expect.arrayContaining(['AWS::Scheduler::Schedule', 'AWS::Lambda::Function', 'AWS::KinesisVideo::Stream', 'AWS::Kinesis::Stream']));
    expect(types.has('Custom::RekognitionStreamProcessor')).toBe(false);
    expect(checker.describe(findings)).toBe('');
  });
});

describe('the check', () => {
  /** The standalone camera's template, clean (asserted above), as the base for planted defects. */
  let base: { Resources: Record<string, { Type: string; Properties: any }> };

  beforeAll(() => {
    const app = newApp();
    const stack = new Stack(app, 'Base');
    new Camera(stack, 'Yard', { name: 'yard', collection: new FaceCollection(stack, 'Faces'), engine: FaceSearchEngine.frameSampling() });
    base = app.synth().getStackByName('Base').template;
  });

  const first = (template: typeof base, type: string) => {
    const entry = Object.entries(template.Resources).find(([, r]) => r.Type === type);
    if (!entry) {
      throw new Error(`no ${type} in the base template`);
    }
    return { id: entry[0], properties: entry[1].Properties };
  };
  const planted = (plant: (t: typeof base) => string, region?: string) => {
    const template = structuredClone(base);
    const resource = plant(template);
    const findings = checker.checkTemplate('planted.template.json', template, region).findings;
    return { resource, findings: findings.map((f) => ({ resource: f.resource, path: f.path, rule: f.rule })), messages: checker.describe(findings) };
  };

  test('the base template is clean', () => {
    expect(formatFindings(checker.checkTemplate('base.template.json', base).findings)).toBe('');
  });

  test.each<[string, (t: typeof base) => string, string | undefined, string | string[]]>([
    ['an unknown property', (t) => { const r = first(t, 'AWS::KinesisVideo::Stream'); r.properties.Colour = 'red'; return r.id; }, 'Properties.Colour', 'F3002'],
    ['an unknown property in a nested object', (t) => { const r = first(t, 'AWS::Lambda::Function'); r.properties.Environment.Extra = 1; return r.id; }, 'Properties.Environment.Extra', 'F3002'],
    ['a required property missing', (t) => { const r = first(t, 'AWS::DynamoDB::Table'); delete r.properties.KeySchema; return r.id; }, 'Properties', 'F3003'],
    ['a value of the wrong type', (t) => { const r = first(t, 'AWS::KinesisVideo::Stream'); r.properties.DataRetentionInHours = 'a day'; return r.id; }, 'Properties.DataRetentionInHours', 'F3012'],
    ['a value outside its enum', (t) => { const r = first(t, 'AWS::DynamoDB::Table'); r.properties.BillingMode = 'FREE'; return r.id; }, 'Properties.BillingMode', 'W3030'],
    ['an enum value in an array', (t) => { const r = first(t, 'AWS::Lambda::Function'); r.properties.Architectures = ['sparc']; return r.id; }, 'Properties.Architectures.0', 'W3030'],
    ['a value not matching its pattern', (t) => { const r = first(t, 'AWS::Rekognition::Collection'); r.properties.CollectionId = 'front door!'; return r.id; }, 'Properties.CollectionId', 'F3031'],
    ['a string over its maximum length', (t) => { const r = first(t, 'AWS::KinesisVideo::Stream'); r.properties.Name = 'x'.repeat(257); return r.id; }, 'Properties.Name', 'F3033'],
    // an empty string also fails the pattern (one or more characters)
    ['a string under its minimum length', (t) => { const r = first(t, 'AWS::Rekognition::Collection'); r.properties.CollectionId = ''; return r.id; }, 'Properties.CollectionId', ['F3031', 'F3033']],
    ['an array over its maximum size', (t) => { const r = first(t, 'AWS::KinesisVideo::Stream'); r.properties.Tags = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })); return r.id; }, 'Properties.Tags', 'F3032'],
    ['a number under its minimum', (t) => { const r = first(t, 'AWS::Lambda::Function'); r.properties.MemorySize = 64; return r.id; }, 'Properties.MemorySize', 'F3034'],
    ['a Ref to a resource that does not exist', (t) => { const r = first(t, 'AWS::Lambda::Function'); r.properties.Handler = { Ref: 'NoSuchResource' }; return r.id; }, 'Properties.Handler', 'F1020'],
    ['a custom resource without ServiceToken', (t) => { t.Resources.Custom = { Type: 'Custom::Anything', Properties: { Camera: 'yard' } }; return 'Custom'; }, 'Properties.ServiceToken', 'CUSTOM1'],
    ['a resource type with no schema', (t) => { t.Resources.Made = { Type: 'AWS::Made::Up', Properties: {} }; return 'Made'; }, undefined, 'F3006'],
  ])('reports %s', (_name, plant, propertyPath, rules) => {
    const { resource, findings, messages } = planted(plant);
    const expected = [rules].flat().map((rule) => ({ resource, path: propertyPath, rule }));
    expect([...findings].sort((a, b) => a.rule.localeCompare(b.rule))).toEqual(expected);
    for (const rule of [rules].flat()) {
      expect(messages).toContain(rule);
    }
  });

  test('a resource type with no schema is named in the message, and passes once allow-listed with a reason', () => {
    const plant = (t: typeof base) => { t.Resources.Made = { Type: 'AWS::Made::Up', Properties: {} }; return 'Made'; };
    const { messages } = planted(plant);
    // the first line names the validator and its schemas' version, in case they lag behind AWS
    expect(messages.split('\n')[0]).toMatch(/^@aws\/cloudformation-validate \d+\.\d+\.\d+, schemas \S*resource-provider-enhanced-schemas@\S+, rules \S*cfn-lint@\S+$/);
    expect(messages).toMatch(/Made \(AWS::Made::Up\).*no CloudFormation resource schema for AWS::Made::Up.*TYPES_WITHOUT_SCHEMA/);
    const template = structuredClone(base);
    plant(template);
    const allowed = checker.checkTemplate('planted.template.json', template, undefined, { typesWithoutSchema: { 'AWS::Made::Up': 'a planted type, for this test' } });
    expect(formatFindings(allowed.findings)).toBe('');
    expect(allowed.resourceTypes['AWS::Made::Up']).toBe(1);
  });

  test('a resource type not offered in the Region is reported', () => {
    // Kinesis Video Streams and Rekognition collections are not in Africa (Cape Town)
    const { findings } = planted(() => '', 'af-south-1');
    expect(new Set(findings.map((f) => f.rule))).toEqual(new Set(['F3006']));
    expect(new Set(findings.map((f) => f.resource))).toEqual(new Set([first(base, 'AWS::KinesisVideo::Stream').id, first(base, 'AWS::Rekognition::Collection').id]));
  });

  test.each<[string, (other: string) => unknown]>([
    ['Ref', () => ({ Ref: 'AWS::StackName' })],
    ['Fn::Sub', () => ({ 'Fn::Sub': '${AWS::StackName}-faces' })],
    ['Fn::GetAtt', (other) => ({ 'Fn::GetAtt': [other, 'Arn'] })],
    ['Fn::Join', (other) => ({ 'Fn::Join': ['-', [{ Ref: other }, 'faces']] })],
  ])('accepts an intrinsic function (%s) where the schema wants a patterned string or an integer', (_name, value) => {
    const { findings } = planted((t) => {
      const other = first(t, 'AWS::Kinesis::Stream').id;
      first(t, 'AWS::Rekognition::Collection').properties.CollectionId = value(other);
      first(t, 'AWS::KinesisVideo::Stream').properties.DataRetentionInHours = value(other);
      return '';
    });
    expect(findings).toEqual([]);
  });

  test('nested stacks\' templates are found through the asset manifest and checked in their parent\'s Region', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: { account: '123456789012', region: 'af-south-1' } });
    const child = new NestedStack(parent, 'Child');
    new kinesisvideo.CfnStream(new NestedStack(child, 'GrandChild'), 'Video', { name: 'video', dataRetentionInHours: 24 });
    const reports = checker.checkAssembly(app.synth());

    const nested = reports.filter((r) => r.template.endsWith('.nested.template.json'));
    expect(nested.map((r) => r.region)).toEqual(['af-south-1', 'af-south-1']);
    const grandChild = nested.find((r) => r.resourceTypes['AWS::KinesisVideo::Stream']);
    expect(grandChild?.findings.map((f) => [f.rule, f.resourceType])).toEqual([['F3006', 'AWS::KinesisVideo::Stream']]);
  });
});
