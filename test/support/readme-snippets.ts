/**
 * The TypeScript snippets of the README, as compilable modules: each snippet's imports are
 * hoisted, its body goes into a Stack constructor (`this` is the stack), and the variables the
 * README leaves to the reader (`topic`, `queue`, `faces`) are declared when the snippet does not
 * declare them itself.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const README = path.join(__dirname, '..', '..', 'README.md');

/** The ```ts snippets: stack code (the body of a Stack constructor). */
export function typescriptSnippets(): string[] {
  const text = readFileSync(README, 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** The ```typescript snippets: whole modules (a Lambda handler, say), compiled as they are. */
export function typescriptModules(): string[] {
  const text = readFileSync(README, 'utf8');
  return [...text.matchAll(/```typescript\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const FIXTURES: Record<string, string> = {
  topic: 'const topic: sns.ITopic = new sns.Topic(this, "FixtureTopic");',
  queue: 'const queue: sqs.IQueue = new sqs.Queue(this, "FixtureQueue");',
  faces: 'const faces = new FaceStreamPipeline(this, "FixtureFaces", { cameras: [{ name: "front-door" }] });',
};

/** A module that compiles the snippet; `library` is how it imports this package. */
export function snippetModule(snippet: string, library: string): string {
  const lines = snippet.split('\n');
  const importLines = lines.filter((l) => /^import /.test(l)).map((l) => l.replace(/'cdk-face-stream-pipeline'/, `'${library}'`));
  const body = lines.filter((l) => !/^import /.test(l)).join('\n');
  const imported = new Set(importLines.flatMap((l) => [...l.matchAll(/\b(?:as\s+)?(\w+)\s*(?:,|\}|\sfrom)/g)].map((m) => m[1])));
  const header = [
    ["import { App, Stack } from 'aws-cdk-lib';", ['App', 'Stack']],
    ["import * as events from 'aws-cdk-lib/aws-events';", ['events']],
    ["import * as targets from 'aws-cdk-lib/aws-events-targets';", ['targets']],
    ["import * as sns from 'aws-cdk-lib/aws-sns';", ['sns']],
    ["import * as sqs from 'aws-cdk-lib/aws-sqs';", ['sqs']],
    [`import { FaceStreamPipeline } from '${library}';`, ['FaceStreamPipeline']],
  ] as const;
  const hoisted = [...header.filter(([, names]) => names.every((n) => !imported.has(n))).map(([line]) => line), ...importLines];
  const fixtures = Object.entries(FIXTURES)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(body) && !new RegExp(`\\b(const|let|var)\\s+${name}\\b`).test(body))
    .map(([, line]) => line);
  return [
    ...hoisted,
    '',
    'export class Snippet extends Stack {',
    '  constructor(app: App) {',
    "    super(app, 'Snippet');",
    ...fixtures.map((f) => `    ${f}`),
    ...body.split('\n').map((l) => `    ${l}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The README's code blocks of one language tag (```python, ```java, ```go, ```csharp), in order. */
export function codeBlocks(tag: string): string[] {
  const text = readFileSync(README, 'utf8');
  return [...text.matchAll(new RegExp('```' + tag + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}
