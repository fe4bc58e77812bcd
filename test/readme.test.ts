/**
 * Every TypeScript snippet of the README type-checks against the library (strict mode).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { snippetModule, typescriptModules, typescriptSnippets } from './support/readme-snippets';

test('the README has TypeScript snippets, and every one compiles', () => {
  const snippets = typescriptSnippets();
  expect(snippets.length).toBeGreaterThanOrEqual(2);
  const dir = path.join(__dirname, '.readme-snippets');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const files = snippets.map((snippet, i) => {
      const file = path.join(dir, `snippet-${i}.ts`);
      writeFileSync(file, snippetModule(snippet, '../../lib'));
      return file;
    });
    // whole modules (the typed event handler) import the types-only entry point as users do
    const modules = typescriptModules();
    expect(modules.length).toBeGreaterThanOrEqual(1);
    modules.forEach((module, i) => {
      const file = path.join(dir, `module-${i}.ts`);
      writeFileSync(file, module.replace(/'cdk-face-stream-pipeline\/events'/g, "'../../events'"));
      files.push(file);
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      types: ['node'],
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
