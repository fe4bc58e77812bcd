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
 * The message of a library error as another language reports it, without what the jsii runtime adds:
 * an error thrown in a method or static method (not in a constructor) arrives as `String(error)`,
 * "Error: <message>", in every language; Java's exception message goes on with the JavaScript stack
 * trace, after a line break.
 */
export function jsiiMessage(message: string): string {
  return message.split('\n')[0].replace(/^Error: /, '');
}

/** The README's Go Quick start as its import lines and its body (Go has no imports in a function). */
export function goQuickStart(): { imports: string[]; body: string } {
  const m = /^import \(\n([\s\S]*?)\n\)\n([\s\S]*)$/.exec(quickStart('go'));
  if (!m) throw new Error('the README Go Quick start must start with an import ( ... ) block');
  return { imports: m[1].split('\n').map((l) => l.trim()), body: m[2] };
}

/** The README's Java Quick start as its import lines and its body (a constructor's statements). */
export function javaQuickStart(): { imports: string[]; body: string } {
  const lines = quickStart('java').split('\n');
  const imports = lines.filter((l) => /^import /.test(l));
  return { imports, body: lines.filter((l) => !/^import /.test(l)).join('\n').replace(/^\n+/, '') };
}

/** The index of the brace that closes the one at `open`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    if (text[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unbalanced braces after ${text.slice(open, open + 40)}`);
}

/** The aws-cdk-lib types the C# Quick start uses (Amazon.CDK: not generated here). */
const AWS_CDK_TYPES = ['Topic', 'TopicProps', 'EmailSubscription', 'SnsTopic'];

/**
 * What of the README's C# Quick start does not match the .NET code jsii-pacmak generated in
 * `dotnetDir` (NuGet is not reachable here, so nothing compiles it): the namespace it imports, the
 * types it makes, the properties it sets on them and the methods it calls on the pipeline. Also a
 * type named like a segment of the namespace: `using A.B;` then `new A(...)` names the namespace A,
 * not the type (error CS0118), so such a type cannot be used as the Quick start does.
 */
export function csharpQuickStartProblems(dotnetDir: string, walk: (dir: string) => string[]): string[] {
  const snippet = quickStart('csharp');
  const sources = walk(dotnetDir).filter((f) => f.endsWith('.cs')).map((f) => readFileSync(f, 'utf8'));
  const namespaces = new Set(sources.flatMap((s) => [...s.matchAll(/^namespace ([\w.]+)/gm)].map((m) => m[1])));
  const classes = new Map<string, string>();
  for (const s of sources) {
    for (const m of s.matchAll(/^\s*public (?:\w+ )*(?:class|interface) (\w+)/gm)) classes.set(m[1], (classes.get(m[1]) ?? '') + s);
  }
  const problems: string[] = [];
  const ours = [...snippet.matchAll(/^using ([\w.]+);$/gm)].map((m) => m[1]).filter((ns) => !ns.startsWith('Amazon.CDK'));
  if (ours.length !== 1 || !namespaces.has(ours[0])) problems.push(`the Quick start imports ${ours.join(', ')}; the generated namespaces are ${[...namespaces].join(', ')}`);
  for (const ns of namespaces) {
    for (const segment of ns.split('.')) if (classes.has(segment)) problems.push(`type ${segment} has the name of a segment of its namespace ${ns}`);
  }
  for (const m of snippet.matchAll(/\bnew (\w+)\s*(\(|\{)/g)) {
    const [, type] = m;
    const body = classes.get(type);
    if (!body) {
      if (!AWS_CDK_TYPES.includes(type)) problems.push(`no generated type ${type}`);
      continue;
    }
    if (m[2] === '(') continue; // a constructor call; its props object is checked as an initializer
    const open = m.index! + m[0].length - 1;
    // the object initializer's own properties: `Name = ...` at its first level
    const block = snippet.slice(open + 1, closingBrace(snippet, open));
    let flat = block;
    for (let i = flat.indexOf('{'); i >= 0; i = flat.indexOf('{')) flat = flat.slice(0, i) + flat.slice(closingBrace(flat, i) + 1);
    for (const [, prop] of flat.matchAll(/(?:^|[,{]|\n)\s*(\w+) = /g)) {
      if (!new RegExp(`public (?:virtual |override )?[\\w.<>?\\[\\]]+ ${prop}\\b`).test(body)) problems.push(`${type} has no property ${prop}`);
    }
  }
  const pipeline = classes.get('FaceStreamPipeline') ?? '';
  for (const [, method] of snippet.matchAll(/\bfaces\.(\w+)\(/g)) {
    if (!new RegExp(`public (?:virtual )?[\\w.<>?\\[\\]]+ ${method}\\(`).test(pipeline)) problems.push(`FaceStreamPipeline has no method ${method}`);
  }
  return problems;
}

/**
 * Asserts that a language's app did what the TypeScript app does: the template synthesized into
 * `outdir` equals the TypeScript one (masked), and the bad props' messages, the JSON array on the
 * last line of the app's `stdout`, are the TypeScript messages.
 */
export function expectSameAsTypeScript(outdir: string, stdout: string): void {
  const errors: string[] = JSON.parse(stdout.trim().split('\n').pop()!);
  const reference = typescriptReference();
  const template = readTemplate(outdir);
  expect(maskTemplate(template)).toEqual(maskTemplate(reference.template));
  // what the app made, so that two empty templates could not pass
  const types = Object.values<any>(template.Resources).map((r) => r.Type);
  expect(types.filter((t) => t === 'AWS::KinesisVideo::Stream')).toHaveLength(3);
  expect(types).toEqual(expect.arrayContaining(['Custom::RekognitionStreamProcessor', 'AWS::Scheduler::Schedule', 'AWS::Events::Rule', 'AWS::SQS::Queue']));

  expect(reference.errors).toEqual([expect.stringContaining('faceMatchThreshold must be'), expect.stringContaining('samplingInterval must be')]);
  expect(errors.map(jsiiMessage)).toEqual(reference.errors);
}
