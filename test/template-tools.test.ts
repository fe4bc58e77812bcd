/**
 * Checked by tools we did not write: AWS's CloudFormation linter (cfn-lint) and the IaC security
 * scanner checkov, both from PyPI (pinned in requirements-checks.txt, installed into .venv-checks by
 * scripts/setup-tools.sh), over every template of the apps the template checks use
 * (test/fixtures/apps.ts: the example app, a pipeline with every option on, a hub with nested camera
 * stacks of both engines and a site), nested stacks' templates included.
 *
 * cfn-lint: no error, and no warning but those ignored by rule id, with the reason, in .cfnlintrc.yaml.
 * checkov: no failed check; every skip is on the exact resource (`Metadata.checkov.skip`, with a
 * comment) and listed in the README's Security section.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CHECKED_APPS, removeAppDirs } from './fixtures/apps';
import { assemblyTemplates } from './support/cfn-schema';
import { checksBin, REPO_ROOT } from './support/tools';

const run = promisify(execFile);
/**
 * A ceiling for a tool's run (Python start-up, schemas, graph building), far above what it needs
 * (cfn-lint about 10 s, checkov about 20 s on an idle machine): not a measure, only so that a hung
 * tool fails the test instead of stalling it.
 */
const TOOL_TIMEOUT = 600_000;

interface Template {
  Resources: Record<string, { Type: string; Properties?: any; Metadata?: { checkov?: { skip?: Array<{ id: string; comment: string }> } } }>;
}

/** Every template of the checked apps, with the Region its stack deploys in. */
let templates: Array<{ file: string; region: string }>;
let scratch: string;

beforeAll(() => {
  for (const tool of ['cfn-lint', 'checkov']) {
    if (!existsSync(checksBin(tool))) {
      throw new Error(`${checksBin(tool)} is missing: run "npm run setup" (npm test does) first`);
    }
  }
  templates = CHECKED_APPS.flatMap(([, synth]) => assemblyTemplates(synth()));
  scratch = mkdtempSync(path.join(tmpdir(), 'fsp-planted-'));
}, TOOL_TIMEOUT);

afterAll(() => {
  removeAppDirs();
  if (scratch) {
    rmSync(scratch, { recursive: true, force: true });
  }
});

/** Runs a tool of .venv-checks from the repository's root (where it finds its configuration); its exit code does not throw. */
async function tool(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(checksBin(name), args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, BC_SKIP_MAPPING: 'TRUE' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof error.code !== 'number') {
      throw e;
    }
    return { code: error.code, stdout: error.stdout ?? '', stderr: error.stderr ?? '' };
  }
}

interface LintFinding {
  Filename: string;
  Level: string;
  Message: string;
  Rule: { Id: string };
  Location: { Path: Array<string | number> };
}

/** cfn-lint over `files` in every Region of `regions`, with .cfnlintrc.yaml; its findings as JSON. */
async function cfnLint(files: string[], regions: string[]): Promise<LintFinding[]> {
  const { code, stdout, stderr } = await tool('cfn-lint', ['--format', 'json', '--regions', ...regions, '--', ...files]);
  // exit codes: 0 clean, bit 2 an error, bit 4 a warning, bit 8 informational; anything else (1) is a failure of the tool
  if (code & 1 || !stdout.trim().startsWith('[')) {
    throw new Error(`cfn-lint failed (exit ${code}): ${stderr || stdout}`);
  }
  return JSON.parse(stdout);
}

const describeLint = (findings: LintFinding[]) =>
  findings.map((f) => `${path.basename(f.Filename)} ${f.Location.Path.slice(0, 2).join('/')}: ${f.Rule.Id} ${f.Level}: ${f.Message}`).join('\n');

interface CheckovReport {
  check_type: string;
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number; checkov_version: string };
  results: { failed_checks?: Array<{ check_id: string; check_name: string; file_path: string; resource: string }> };
}

/** checkov over `files`, with .checkov.yaml (CloudFormation only, offline, JSON). */
async function checkov(files: string[]): Promise<CheckovReport[]> {
  const { code, stdout, stderr } = await tool('checkov', ['--config-file', '.checkov.yaml', ...files.flatMap((f) => ['-f', f])]);
  // exit codes: 0 nothing failed, 1 a check failed; anything else, or no JSON, is a failure of the tool
  if (code > 1 || !/^\s*[[{]/.test(stdout)) {
    throw new Error(`checkov failed (exit ${code}): ${stderr || stdout}`);
  }
  const parsed = JSON.parse(stdout);
  return Array.isArray(parsed) ? parsed : [parsed];
}

const describeCheckov = (reports: CheckovReport[]) =>
  reports
    .flatMap((r) => r.results.failed_checks ?? [])
    .map((f) => `${path.basename(f.file_path)} ${f.resource}: ${f.check_id} ${f.check_name}`)
    .join('\n');

describe('cfn-lint', () => {
  test('every template: no error, no warning but those ignored in .cfnlintrc.yaml', async () => {
    expect(templates.filter((t) => t.file.endsWith('.nested.template.json')).length).toBeGreaterThanOrEqual(2);
    const regions = [...new Set(templates.map((t) => t.region))].sort();
    expect(regions).toEqual(['eu-west-1', 'us-east-1', 'us-west-2']);
    // each template in its stack's Region: one cfn-lint per Region
    const findings = await Promise.all(regions.map((region) => cfnLint(templates.filter((t) => t.region === region).map((t) => t.file), [region])));
    expect(describeLint(findings.flat())).toBe('');
  }, TOOL_TIMEOUT);

  test('each ignored rule has its reason in .cfnlintrc.yaml', () => {
    const config = readFileSync(path.join(REPO_ROOT, '.cfnlintrc.yaml'), 'utf8');
    const ignored = [...config.matchAll(/^\s+- ([EWI]\d{4})\s*$/gm)].map((m) => m[1]);
    expect(ignored.length).toBeGreaterThan(0);
    for (const rule of ignored) {
      // a comment naming the rule, above the entry
      expect(config).toMatch(new RegExp(`# ${rule} .{40,}`));
    }
  });

  test('a planted defect is reported: the check runs cfn-lint for real', async () => {
    const source = templates.find((t) => path.basename(t.file) === 'Mixed.template.json')!;
    const template: Template = JSON.parse(readFileSync(source.file, 'utf8'));
    const [id] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function')!;
    template.Resources[id].Properties.Runtime = 'nodejs8.10'; // deprecated long ago: an error
    const file = path.join(scratch, 'planted-lint.template.json');
    writeFileSync(file, JSON.stringify(template, undefined, 1));
    const findings = await cfnLint([file], [source.region]);
    expect(findings.filter((f) => f.Level === 'Error').map((f) => [f.Location.Path.slice(0, 4).join('/'), f.Rule.Id])).toContainEqual([`Resources/${id}/Properties/Runtime`, 'E2533']);
  }, TOOL_TIMEOUT);
});

describe('checkov', () => {
  let reports: CheckovReport[];
  beforeAll(async () => {
    reports = await checkov(templates.map((t) => t.file));
  }, TOOL_TIMEOUT);

  test('every template: no failed check, nothing it could not parse', () => {
    expect(reports.map((r) => r.check_type)).toEqual(['cloudformation']);
    expect(describeCheckov(reports)).toBe('');
    expect(reports[0].summary).toMatchObject({ failed: 0, parsing_errors: 0 });
    expect(reports[0].summary.passed).toBeGreaterThan(500);
  });

  test('every skip is on one resource, with a reason, and listed in the README Security section', () => {
    const skips = templates.flatMap((t) => {
      const template: Template = JSON.parse(readFileSync(t.file, 'utf8'));
      return Object.entries(template.Resources).flatMap(([id, r]) => (r.Metadata?.checkov?.skip ?? []).map((s) => ({ id, type: r.Type, check: s.id, comment: s.comment })));
    });
    // checkov counted each of them as skipped, and nothing else
    expect(reports[0].summary.skipped).toBe(skips.length);
    for (const skip of skips) {
      expect({ ...skip, comment: skip.comment.length >= 40 }).toEqual({ ...skip, comment: true });
    }
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const security = readme.slice(readme.indexOf('## Security'), readme.indexOf('\n## ', readme.indexOf('## Security') + 1));
    const listed = new Set([...security.matchAll(/^\| (CKV_AWS_\d+) \|/gm)].map((m) => m[1]));
    expect([...listed].sort()).toEqual([...new Set(skips.map((s) => s.check))].sort());
  });

  test('a planted finding is reported: a queue without its skip fails CKV_AWS_27', async () => {
    const source = templates.find((t) => path.basename(t.file) === 'FaceStreamPipelineExample.template.json')!;
    const template: Template = JSON.parse(readFileSync(source.file, 'utf8'));
    const [id, queue] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::SQS::Queue')!;
    delete queue.Metadata;
    const file = path.join(scratch, 'planted-checkov.template.json');
    writeFileSync(file, JSON.stringify(template, undefined, 1));
    const [report] = await checkov([file]);
    expect((report.results.failed_checks ?? []).map((f) => [f.check_id, f.resource])).toEqual([['CKV_AWS_27', `AWS::SQS::Queue.${id}`]]);
  }, TOOL_TIMEOUT);
});
