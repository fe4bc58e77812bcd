/**
 * The import graph of lib/, read with the TypeScript compiler's parser (no type checking): every
 * static import and re-export, dynamic `import()` and `require()` of a relative path, resolved to
 * its file, and whether it is type-only (erased from the JavaScript). Used by test/layers.test.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

export interface Edge {
  readonly from: string;
  readonly to: string;
  /** `import type`, or every named binding `type`: nothing of it is left at run time. */
  readonly typeOnly: boolean;
}

/** Every .ts file under `dir` (not .d.ts), relative to `root`, with / separators. */
export function sourceFiles(root: string, dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) {
        walk(full);
      } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        found.push(path.relative(root, full).split(path.sep).join('/'));
      }
    }
  };
  walk(path.join(root, dir));
  return found.sort();
}

function resolve(root: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) {
    return undefined; // a package
  }
  const base = path.join(root, path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    if (existsSync(candidate)) {
      return path.relative(root, candidate).split(path.sep).join('/');
    }
  }
  throw new Error(`${from}: cannot resolve ${specifier}`);
}

function typeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) {
    return false; // a side-effect import
  }
  if (clause.isTypeOnly) {
    return true;
  }
  const bindings = clause.namedBindings;
  return !clause.name && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

function typeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) {
    return true;
  }
  const clause = node.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** The edges out of one file's text. */
export function importsOf(root: string, file: string, text: string): Edge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: string, typeOnly: boolean) => {
    const to = resolve(root, file, specifier);
    if (to) {
      edges.push({ from: file, to, typeOnly });
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, typeOnlyImport(node));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, typeOnlyExport(node));
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments.length === 1 &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The graph of every file under `dir`. */
export function importGraph(root: string, dir: string): Edge[] {
  return sourceFiles(root, dir).flatMap((file) => importsOf(root, file, readFileSync(path.join(root, file), 'utf8')));
}

/** Every cycle (strongly connected component of more than one file, or a file importing itself), each sorted. */
export function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  }
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  // Tarjan's algorithm
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) {
        found.push(component.sort());
      }
    }
  };
  for (const v of nodes) {
    if (!index.has(v)) {
      connect(v);
    }
  }
  return found;
}

/**
 * The edges that break the layering: a value import (one that is still there at run time) from a
 * file to a file of a higher rank. `rank` answers undefined for a file it does not place: an error.
 */
export function upwardImports(edges: readonly Edge[], rank: (file: string) => number | undefined): string[] {
  const problems: string[] = [];
  for (const e of edges) {
    const from = rank(e.from);
    const to = rank(e.to);
    if (from === undefined || to === undefined) {
      problems.push(`${from === undefined ? e.from : e.to} has no layer`);
    } else if (to > from && !e.typeOnly) {
      problems.push(`${e.from} imports ${e.to}, a higher layer (only \`import type\` may point up)`);
    }
  }
  return [...new Set(problems)];
}
