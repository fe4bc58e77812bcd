/**
 * A hundred cameras in one pipeline (nested stacks), a thousand across stacks (a hub and its sites):
 * every template within CloudFormation's limits, nothing in an environment or an inline policy that
 * grows with cameras, a camera added changing one nested stack, and sites sharing one collection,
 * one consumer (its rules, de-duplication and dead letters) and one enrolment bucket.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Camera, FaceSearchEngine, FaceStreamPipeline, FaceStreamPipelineProps } from '../lib';
import { jumpHash } from '../lib/private/camera-stacks';

type Template = { Resources: Record<string, { Type: string; Properties?: any; DependsOn?: unknown }>; Parameters?: object; Outputs?: Record<string, any> };

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const names = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `camera-${String(i + from).padStart(3, '0')}`);

/** Every template the app writes (root and nested), by file name, with its size in bytes. */
function synthesize(build: (app: App) => void): Map<string, { template: Template; bytes: number }> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'fsp-scale-'));
  dirs.push(outdir);
  const app = new App({ outdir });
  build(app);
  app.synth();
  const templates = new Map<string, { template: Template; bytes: number }>();
  for (const file of readdirSync(outdir).filter((f) => f.endsWith('.template.json'))) {
    const full = path.join(outdir, file);
    templates.set(file, { template: JSON.parse(readFileSync(full, 'utf8')), bytes: statSync(full).size });
  }
  return templates;
}

function pipeline(cameras: string[], props: FaceStreamPipelineProps = {}) {
  return (app: App) => {
    new FaceStreamPipeline(new Stack(app, 'Site'), 'Faces', { ...props, cameras: cameras.map((name) => ({ name })) });
  };
}

/** A value once deployed: intrinsic functions counted as 256 characters (longer than any ARN, URL or name they stand for). */
function deployedText(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && /^(Ref|Fn::)/.test(Object.keys(v)[0]) ? 'x'.repeat(256) : v,
  );
}

/** Lambda's measure of each function's environment: the JSON of the whole variable map. */
function environments(templates: Map<string, { template: Template }>): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [file, { template }] of templates) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type === 'AWS::Lambda::Function') {
        sizes.set(`${file}/${id}`, deployedText(resource.Properties?.Environment?.Variables ?? {}).length);
      }
    }
  }
  return sizes;
}

/** The inline policies of each role, together, as IAM counts them (no white space). */
function rolePolicies(templates: Map<string, { template: Template }>): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const [file, { template }] of templates) {
    for (const [id, resource] of Object.entries(template.Resources)) {
      const add = (role: string, document: unknown) => sizes.set(role, (sizes.get(role) ?? 0) + deployedText(document).length);
      if (resource.Type === 'AWS::IAM::Role') {
        for (const policy of resource.Properties?.Policies ?? []) {
          add(`${file}/${id}`, policy.PolicyDocument);
        }
      }
      if (resource.Type === 'AWS::IAM::Policy') {
        for (const role of resource.Properties.Roles ?? []) {
          // a role of this template, or of the parent (a nested stack's parameter)
          add(role.Ref && template.Resources[role.Ref] ? `${file}/${role.Ref}` : `parent/${JSON.stringify(role)}`, resource.Properties.PolicyDocument);
        }
      }
    }
  }
  return sizes;
}

const largest = (sizes: Map<string, number>) => Math.max(...sizes.values());

describe.each([
  ['stream processor', undefined, 9],
  ['frame sampling', FaceSearchEngine.frameSampling(), 7],
])('100 cameras on the %s engine in one pipeline, alarms on', (_name, engine, perCamera) => {
  let hundred: Map<string, { template: Template; bytes: number }>;
  let ten: Map<string, { template: Template; bytes: number }>;
  beforeAll(() => {
    hundred = synthesize(pipeline(names(100), { engine, cameraStacks: 3 }));
    ten = synthesize(pipeline(names(10), { engine, cameraStacks: 3 }));
  });

  test('every template, nested stacks included, is within 500 resources, 1 MB, 200 parameters and 200 outputs', () => {
    const nested = [...hundred.keys()].filter((file) => file.endsWith('.nested.template.json'));
    expect(nested).toHaveLength(3);
    for (const [file, { template, bytes }] of hundred) {
      expect({ file, resources: Object.keys(template.Resources).length <= 500, bytes: bytes <= 1_000_000 }).toEqual({ file, resources: true, bytes: true });
      expect(Object.keys(template.Parameters ?? {}).length).toBeLessThanOrEqual(200);
      expect(Object.keys(template.Outputs ?? {}).length).toBeLessThanOrEqual(200);
    }
    // each camera's resources are in its nested stack: video stream, data stream, event source mapping, 3 alarms and its engine
    const inNested = nested.reduce((sum, file) => sum + Object.keys(hundred.get(file)!.template.Resources).length, 0);
    expect(inNested).toBe(100 * perCamera);
    const alarms = nested.flatMap((file) => Object.values(hundred.get(file)!.template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(300);
    const mappings = nested.flatMap((file) => Object.values(hundred.get(file)!.template.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(100);
  });

  test('no Lambda environment and no role\'s inline policies grow with cameras, and all are within their limits', () => {
    const env100 = environments(hundred);
    const env10 = environments(ten);
    expect(largest(env100)).toBeLessThanOrEqual(4096);
    // the same functions (all in the root stack), with the same environments, for 10 cameras and 100
    expect(env100).toEqual(env10);
    const policies100 = rolePolicies(hundred);
    const policies10 = rolePolicies(ten);
    expect(largest(policies100)).toBeLessThanOrEqual(10_240);
    const shared = (sizes: Map<string, number>) => new Map([...sizes].filter(([role]) => role.startsWith('Site.template.json/') || role.startsWith('parent/')));
    expect(shared(policies100)).toEqual(shared(policies10));
    // a camera's own role (its stream processor's service role) is the same size for every camera
    const own = new Set([...policies100].filter(([role]) => role.includes('.nested.')).map(([, size]) => size));
    expect(own.size).toBeLessThanOrEqual(1);
  });

  test('the root stack does not grow with cameras', () => {
    const root = (templates: typeof ten) => templates.get('Site.template.json')!.template;
    expect(Object.keys(root(hundred).Resources)).toEqual(Object.keys(root(ten).Resources));
  });
});

test('100 cameras mixing both engines, with a dashboard, schedules and a customer-managed key, fit and synthesize', () => {
  const templates = synthesize((app) => {
    const stack = new Stack(app, 'Site');
    const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const schedule = { start: scheduler.ScheduleExpression.cron({ hour: '7', minute: '0' }), stop: scheduler.ScheduleExpression.cron({ hour: '19', minute: '0' }) };
    new FaceStreamPipeline(stack, 'Faces', {
      cameraStacks: 3,
      dashboard: true,
      encryptionKey,
      cameras: names(100).map((name, i) => ({ name, engine: i % 2 ? FaceSearchEngine.frameSampling() : undefined, schedule: i % 10 === 0 ? schedule : undefined })),
    });
  });
  for (const [file, { template, bytes }] of templates) {
    expect({ file, fits: Object.keys(template.Resources).length <= 500 && bytes <= 1_000_000 && Object.keys(template.Outputs ?? {}).length <= 200 }).toEqual({ file, fits: true });
  }
  const root = templates.get('Site.template.json')!.template;
  const dashboard = Object.values(root.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!;
  expect(JSON.stringify(dashboard.Properties.DashboardBody).match(/\\"type\\":\\"(metric|text)\\"/g)).toHaveLength(404);
});

test('a dashboard of more than 500 widgets fails at synth time', () => {
  expect(() => synthesize(pipeline(names(130), { cameraStacks: 4, dashboard: true, alarms: false }))).toThrow(
    'the dashboard has 524 widgets (four per camera); CloudWatch allows 500 per dashboard',
  );
});

describe('adding a camera changes one nested stack', () => {
  test('the other nested stacks are unchanged and the root stack changes only in that nested stack\'s template', () => {
    const before = synthesize(pipeline(names(60), { cameraStacks: 3 }));
    const after = synthesize(pipeline(names(61), { cameraStacks: 3 }));
    const changed = [...after.keys()].filter((file) => JSON.stringify(after.get(file)!.template) !== JSON.stringify(before.get(file)?.template));
    const home = `Cameras${jumpHash('camera-061', 3) + 1}`;
    expect(changed.sort()).toEqual(['Site.template.json', expect.stringMatching(new RegExp(`^SiteFaces${home}[0-9A-F]{8}\\.nested\\.template\\.json$`))].sort());
    const [a, b] = [before, after].map((t) => t.get('Site.template.json')!.template.Resources);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    const differing = Object.keys(a).filter((id) => JSON.stringify(a[id]) !== JSON.stringify(b[id]));
    expect(differing).toEqual([expect.stringMatching(new RegExp(`^Faces${home}NestedStack${home}NestedStackResource[0-9A-F]{8}$`))]);
    expect(Object.keys(a[differing[0]].Properties).filter((key) => JSON.stringify(a[differing[0]].Properties[key]) !== JSON.stringify(b[differing[0]].Properties[key]))).toEqual(['TemplateURL']);
  });

  test('a camera\'s nested stack follows from its name: raising the count from n to n + 1 moves about 1/(n + 1) of the cameras', () => {
    const all = names(1000);
    for (const n of [2, 3, 4, 9]) {
      const moved = all.filter((name) => jumpHash(name, n) !== jumpHash(name, n + 1));
      // every camera that moves goes to the new nested stack
      expect(moved.every((name) => jumpHash(name, n + 1) === n)).toBe(true);
      expect(moved.length / all.length).toBeGreaterThan((1 / (n + 1)) * 0.7);
      expect(moved.length / all.length).toBeLessThan((1 / (n + 1)) * 1.3);
    }
  });

  test('cameraStacks must be a whole number from 1 to 50', () => {
    for (const cameraStacks of [0, 51, 2.5]) {
      expect(() => new FaceStreamPipeline(new Stack(new App(), 'S'), 'Faces', { cameraStacks })).toThrow(`cameraStacks must be a whole number from 1 to 50, got ${cameraStacks}`);
    }
  });

  test('100 cameras without nested stacks fail at synth time, naming the limit, the count and cameraStacks', () => {
    expect(() => synthesize(pipeline(names(100)))).toThrow(/the stack Site has \d+ resources; CloudFormation allows 500 per template\. Give the pipeline cameraStacks/);
  });

  test('a nested stack with too many cameras fails at synth time, naming that nested stack', () => {
    expect(() => synthesize(pipeline(names(130), { cameraStacks: 2 }))).toThrow(/the nested stack Site\/Faces\/Cameras\d has \d+ resources; CloudFormation allows 500 per template/);
  });
});

describe('a thousand cameras across stacks: sites sharing a hub', () => {
  function hubAndSites(app: App) {
    const hub = new FaceStreamPipeline(new Stack(app, 'Hub'), 'Faces', { enrollment: true, cameras: [{ name: 'lobby' }] });
    const sites = ['Paris', 'Lyon'].map(
      (site, i) =>
        new FaceStreamPipeline(new Stack(app, site), 'Faces', {
          hub,
          engine: i === 1 ? FaceSearchEngine.frameSampling() : undefined,
          cameras: names(3, i * 10 + 1).map((name) => ({ name })),
        }),
    );
    hub.onFaceMatch('Alert', { cameras: ['lobby', 'camera-001', 'camera-011'] });
    return { hub, sites };
  }

  test('sites share the hub\'s collection, consumer and enrolment through cross-stack references, and the hub references no site', () => {
    let parts!: ReturnType<typeof hubAndSites>;
    const templates = synthesize((app) => {
      parts = hubAndSites(app);
    });
    expect(parts.sites.every((site) => site.collection === parts.hub.collection && site.consumer === parts.hub.consumer && site.enrollment === undefined)).toBe(true);
    expect(parts.sites.every((site) => site.streamNamePrefix === parts.hub.streamNamePrefix)).toBe(true);
    const hub = templates.get('Hub.template.json')!.template;
    const exports = Object.values(hub.Outputs ?? {}).filter((o) => o.Export).map((o) => o.Export.Name);
    expect(exports.length).toBeGreaterThan(0);
    expect(JSON.stringify(hub)).not.toContain('Fn::ImportValue');
    // one collection, one consumer function, one dedupe table, one queue, one enrolment bucket: all in the hub
    const count = (template: Template, type: string) => Object.values(template.Resources).filter((r) => r.Type === type).length;
    for (const site of ['Paris', 'Lyon']) {
      const t = templates.get(`${site}.template.json`)!.template;
      expect([count(t, 'Custom::RekognitionCollection') + count(t, 'AWS::Rekognition::Collection'), count(t, 'AWS::DynamoDB::Table') - (site === 'Lyon' ? 1 : 0), count(t, 'AWS::SQS::Queue'), count(t, 'AWS::S3::Bucket'), count(t, 'AWS::Events::Rule') - (site === 'Paris' ? 1 : 0)]).toEqual([0, 0, 0, 0, 0]);
      // the site's cameras feed the hub's consumer: the mappings are in the site, importing the hub's function
      const mappings = Object.values(t.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
      expect(mappings).toHaveLength(3);
      for (const mapping of mappings) {
        expect(JSON.stringify(mapping.Properties.FunctionName)).toContain('Fn::ImportValue');
        expect(JSON.stringify(mapping.Properties.DestinationConfig)).toContain('Fn::ImportValue');
      }
      expect(JSON.stringify(t)).toContain('Fn::ImportValue');
    }
    // the hub's consumer reads the sites' streams through its one name-prefix grant, and the hub's rule names site cameras
    const rule = Object.values(hub.Resources).find((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.detail?.camera);
    expect(rule!.Properties.EventPattern.detail.camera).toEqual(['lobby', 'camera-001', 'camera-011']);
    const consumerEnv = Object.values(hub.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.CAMERAS !== undefined);
    expect(consumerEnv!.Properties.Environment.Variables.CAMERAS).toBe('{}');
  });

  test('frame-sampling sites pace their Rekognition calls against one budget in the hub, whichever is made first', () => {
    const budgetOf = (template: Template) => {
      const sampler = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.STATE_TABLE_NAME);
      return sampler?.Properties.Environment.Variables.BUDGET_TABLE_NAME;
    };
    const sharedStatement = (template: Template) =>
      Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .flatMap((r) => r.Properties.PolicyDocument.Statement)
        .find((st: any) => st.Sid === 'SharedRekognitionBudget');
    // a hub without frame-sampling cameras: a budget table is made in the hub for its sites
    let templates = synthesize((app) => {
      const hub = new FaceStreamPipeline(new Stack(app, 'Hub'), 'Faces', { cameras: [{ name: 'lobby' }] });
      for (const site of ['Paris', 'Lyon']) {
        new FaceStreamPipeline(new Stack(app, site), 'Faces', { hub, engine: FaceSearchEngine.frameSampling(), cameras: [{ name: `${site}-gate` }] });
      }
    });
    const hub = templates.get('Hub.template.json')!.template;
    const tables = Object.entries(hub.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table').map(([id]) => id);
    const budgetTable = tables.find((id) => id.includes('RekognitionBudget'))!;
    expect(budgetTable).toBeDefined();
    for (const site of ['Paris', 'Lyon']) {
      const t = templates.get(`${site}.template.json`)!.template;
      expect(JSON.stringify(budgetOf(t))).toContain('Fn::ImportValue');
      expect(JSON.stringify(budgetOf(t))).toContain(budgetTable);
      expect(sharedStatement(t)).toMatchObject({ Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget|*'] } } });
    }
    // a hub with a frame-sampling camera of its own, before and after its sites: one budget either way
    for (const hubFirst of [true, false]) {
      templates = synthesize((app) => {
        const hubStack = new Stack(app, 'Hub');
        const faces = new FaceStreamPipeline(hubStack, 'Faces', { engine: FaceSearchEngine.frameSampling(), cameras: hubFirst ? [{ name: 'lobby' }] : [] });
        new FaceStreamPipeline(new Stack(app, 'Paris'), 'Faces', { hub: faces, engine: FaceSearchEngine.frameSampling(), cameras: [{ name: 'gate' }] });
        if (!hubFirst) {
          faces.addCamera('lobby');
        }
      });
      const h = templates.get('Hub.template.json')!.template;
      const site = JSON.stringify(budgetOf(templates.get('Paris.template.json')!.template));
      if (hubFirst) {
        // the hub's sampler keeps its budget in its state table; the site uses that table's budget rows
        expect(budgetOf(h)).toBeUndefined();
        expect(site).toMatch(/FrameSamplerState/);
      } else {
        // the site made the hub's budget table first; the hub's own sampler uses it too
        expect(JSON.stringify(budgetOf(h))).toMatch(/RekognitionBudget/);
        expect(site).toMatch(/RekognitionBudget/);
      }
    }
  });

  test('a camera name used by the hub or another site fails, naming the pipeline that has it', () => {
    const app = new App();
    const hub = new FaceStreamPipeline(new Stack(app, 'Hub'), 'Faces', { cameras: [{ name: 'lobby' }] });
    const site = new FaceStreamPipeline(new Stack(app, 'Paris'), 'Faces', { hub, cameras: [{ name: 'door' }] });
    expect(() => site.addCamera('lobby')).toThrow('camera name "lobby" is used twice; each camera of a pipeline needs a unique name (it is a camera of Hub/Faces');
    expect(() => new FaceStreamPipeline(new Stack(app, 'Lyon'), 'Faces', { hub, cameras: [{ name: 'door' }] })).toThrow('(it is a camera of Paris/Faces');
  });

  test('a hub\'s rule naming a camera of no site fails at synth; the hub\'s onCamera sees site cameras', () => {
    const app = new App();
    const hub = new FaceStreamPipeline(new Stack(app, 'Hub'), 'Faces');
    const seen: string[] = [];
    hub.onCamera({ handle: (camera: Camera) => seen.push(camera.cameraName) });
    new FaceStreamPipeline(new Stack(app, 'Paris'), 'Faces', { hub, cameras: [{ name: 'door' }] });
    hub.onUnknownFace('Unknown', { cameras: ['door', 'garage'] });
    expect(seen).toEqual(['door']);
    expect(() => app.synth()).toThrow('rule "Unknown" names the camera "garage" in cameras, which is not a camera of this pipeline (cameras: door)');
  });

  test('a site cannot have a collection, consumer or enrolment of its own, nor a hub that is a site', () => {
    const app = new App();
    const hub = new FaceStreamPipeline(new Stack(app, 'Hub'), 'Faces');
    expect(() => new FaceStreamPipeline(new Stack(app, 'A'), 'Faces', { hub, collectionId: 'x', enrollment: true })).toThrow(
      'hub gives this pipeline its collection, consumer, enrolment and snapshots; remove collectionId, enrollment (or hub)',
    );
    const site = new FaceStreamPipeline(new Stack(app, 'B'), 'Faces', { hub });
    expect(() => new FaceStreamPipeline(new Stack(app, 'C'), 'Faces', { hub: site })).toThrow('hub must be a pipeline without a hub of its own: B/Faces is a site of Hub/Faces; use that one');
  });
});
