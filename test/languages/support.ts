/**
 * What the language tests share: the packages jsii-pacmak builds, the TypeScript reference app
 * (apps/typescript/app.ts with the README's TypeScript Quick start), and templates compared with
 * asset hashes and metadata masked.
 *
 * Each language's app is a file of apps/<language>/ with a marker line where the test puts that
 * language's README Quick start, verbatim; the rest of the app (a frame-sampling camera, a rule with a
 * target, the bad props) is written out in every language alike. A change of the public API changes
 * those app files only.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { codeBlocks, typescriptSnippets } from '../support/readme-snippets';
import { REPO_ROOT } from '../support/tools';

export const APPS = path.join(__dirname, 'apps');
export const STACK_NAME = 'QuickStart';

/** Environment for a child process that runs a CDK app through jsii: quiet, no AWS, no Docker. */
export function appEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '1',
    JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION: '1',
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DOCKER: '/bin/false',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...extra,
  };
}

/** Builds (or takes from the cache) one language's package with scripts/pacmak.mjs; returns dist/<target>. */
export function buildPackage(target: 'python' | 'java' | 'go'): string {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'pacmak.mjs'), target], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  return path.join(REPO_ROOT, 'dist', target);
}

/** The README's Quick start of a language: its first code block with that tag. */
export function quickStart(tag: 'ts' | 'python' | 'java' | 'go' | 'csharp'): string {
  const [block] = tag === 'ts' ? typescriptSnippets() : codeBlocks(tag);
  if (!block) throw new Error(`README.md has no \`\`\`${tag} Quick start`);
  return block;
}

/**
 * An app file with the README's Quick start put in place of the line `<comment> README-QUICK-START`,
 * indented like that line (and, for TypeScript and Java, its imports in place of `README-IMPORTS`).
 */
export function composeApp(file: string, snippet: string, comment: string, importPattern?: RegExp): string {
  const app = readFileSync(file, 'utf8');
  const lines = snippet.replace(/\n+$/, '').split('\n');
  const imports = importPattern ? lines.filter((l) => importPattern.test(l)) : [];
  const body = importPattern ? lines.filter((l) => !importPattern.test(l)) : lines;
  const insert = (text: string, marker: string, block: string[]) => {
    const at = new RegExp(`^([ \\t]*)${comment} ${marker}$`, 'm');
    const m = at.exec(text);
    if (!m) throw new Error(`${file} has no "${comment} ${marker}" line`);
    return text.replace(at, block.map((l) => (l ? m[1] + l : l)).join('\n'));
  };
  const withBody = insert(app, 'README-QUICK-START', body);
  return importPattern ? insert(withBody, 'README-IMPORTS', imports) : withBody;
}

/** The TypeScript reference app's template and the messages of its bad props. */
export function typescriptReference(): { template: any; errors: string[] } {
  const dir = mkdtempSync(path.join(__dirname, '.reference-'));
  try {
    const source = composeApp(path.join(APPS, 'typescript', 'app.ts'), quickStart('ts'), '//', /^import /).replace(
      /'cdk-face-stream-pipeline'/g,
      `'${path.relative(dir, path.join(REPO_ROOT, 'lib')).split(path.sep).join('/')}'`,
    );
    writeFileSync(path.join(dir, 'app.ts'), source);
    const app = require(path.join(dir, 'app.ts'));
    const out = path.join(dir, 'cdk.out');
    mkdirSync(out);
    app.synth(out);
    return { template: readTemplate(out), errors: app.errorMessages() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The synthesized template of the app's stack in a cloud assembly folder. */
export function readTemplate(outdir: string): any {
  return JSON.parse(readFileSync(path.join(outdir, `${STACK_NAME}.template.json`), 'utf8'));
}

/**
 * A template without what differs between languages by design: asset hashes (64 hex digits; the
 * assets are the same bundles, but staged by another copy of the package) and metadata (the
 * construct paths' `aws:cdk:path`, and the CDKMetadata resource that names the app's language).
 */
export function maskTemplate(template: any): any {
  const resources = Object.fromEntries(
    Object.entries<any>(template.Resources ?? {})
      .filter(([, r]) => r.Type !== 'AWS::CDK::Metadata')
      .map(([id, { Metadata: _, ...r }]) => [id, r]),
  );
  const { CDKMetadataAvailable: _, ...conditions } = template.Conditions ?? {};
  const masked = { ...template, Resources: resources, ...(Object.keys(conditions).length ? { Conditions: conditions } : {}) };
  if (!Object.keys(conditions).length) delete masked.Conditions;
  return JSON.parse(JSON.stringify(masked).replace(/[0-9a-f]{64}/g, '[ASSET HASH]'));
}

/**
 * The jsii runtime reports an error thrown in a static method or method call (not a constructor) as
 * `String(error)`, "Error: <message>"; the message a user reads is the rest.
 */
export function jsiiMessage(message: string): string {
  return message.replace(/^Error: /, '');
}

/** The README's Go Quick start as its import lines and its body (Go has no imports in a function). */
export function goQuickStart(): { imports: string[]; body: string } {
  const m = /^import \(\n([\s\S]*?)\n\)\n([\s\S]*)$/.exec(quickStart('go'));
  if (!m) throw new Error('the README Go Quick start must start with an import ( ... ) block');
  return { imports: m[1].split('\n').map((l) => l.trim()), body: m[2] };
}
