/**
 * The layers of lib/, read from the import graph (test/support/import-graph.ts): no import cycle
 * anywhere (type imports included), and no import that is still there at run time from a lower
 * layer to a higher one. Lower to higher:
 *   0  contracts both sides compile against: lib/events.ts, lib/metric-names.ts, lib/snapshot-settings.ts,
 *      lib/enrollment-settings.ts
 *   1  handler helpers: lib/runtime/shared/, lib/runtime/face-records/
 *   2  handlers (lib/runtime/<lambda>/, never each other) and the CLI (lib/cli/)
 *   3  construct-side helpers: lib/private/
 *   4  the engines: lib/engines/
 *   5+ the constructs, each above what it composes; lib/index.ts on top
 * The construct side never loads handler or CLI code (bundled apart, not shipped as modules):
 * from there only `import type` may reach lib/runtime/ (the custom resource's property contract).
 */
import * as path from 'node:path';
import { cycles, Edge, importGraph, importsOf, upwardImports } from './support/import-graph';

const ROOT = path.join(__dirname, '..');

/** The constructs, each above the ones it may build or use. */
const CONSTRUCTS: Record<string, number> = {
  'lib/video-stream.ts': 5,
  'lib/face-collection.ts': 5,
  'lib/face-events.ts': 5,
  'lib/face-identity.ts': 5,
  'lib/snapshots.ts': 5,
  'lib/face-notifications.ts': 5,
  'lib/face-enrollment.ts': 6,
  'lib/stream-processor.ts': 6,
  'lib/face-search-consumer.ts': 6,
  'lib/face-search-engine.ts': 7,
  'lib/camera.ts': 8,
  'lib/face-stream-pipeline.ts': 9,
  'lib/index.ts': 10,
};

function rank(file: string): number | undefined {
  if (['lib/events.ts', 'lib/metric-names.ts', 'lib/snapshot-settings.ts', 'lib/enrollment-settings.ts'].includes(file)) {
    return 0;
  }
  if (file.startsWith('lib/runtime/shared/') || file.startsWith('lib/runtime/face-records/')) {
    return 1;
  }
  if (file.startsWith('lib/runtime/') || file.startsWith('lib/cli/')) {
    return 2;
  }
  if (file.startsWith('lib/private/')) {
    return 3;
  }
  if (file.startsWith('lib/engines/')) {
    return 4;
  }
  return CONSTRUCTS[file];
}

const handlerOf = (file: string) => /^lib\/runtime\/([^/]+)\//.exec(file)?.[1];

/** Value imports between handler folders, and from the construct side into handler or CLI code. */
function crossings(edges: readonly Edge[]): string[] {
  const problems: string[] = [];
  for (const e of edges.filter((edge) => !edge.typeOnly)) {
    const from = handlerOf(e.from);
    const to = handlerOf(e.to);
    if (from && to && from !== to && !['shared', 'face-records'].includes(to)) {
      problems.push(`${e.from} imports ${e.to}, another handler's module`);
    }
    const constructSide = !e.from.startsWith('lib/runtime/') && !e.from.startsWith('lib/cli/');
    if (constructSide && (e.to.startsWith('lib/runtime/') || e.to.startsWith('lib/cli/'))) {
      problems.push(`${e.from} loads ${e.to}: handler and CLI code is bundled apart (only \`import type\` may reach it)`);
    }
  }
  return problems;
}

const graph = importGraph(ROOT, 'lib');

test('the graph is read: every layer is there, with type-only and dynamic imports told apart', () => {
  expect(graph.length).toBeGreaterThan(150);
  expect(graph).toContainEqual({ from: 'lib/stream-processor.ts', to: 'lib/runtime/stream-processor/properties.ts', typeOnly: true });
  expect(graph).toContainEqual({ from: 'lib/face-search-engine.ts', to: 'lib/engines/stream-processor-engine.ts', typeOnly: false });
  expect(graph).toContainEqual({ from: 'lib/cli/kvs-client.ts', to: 'lib/cli/shared-config.ts', typeOnly: false });
});

test('no import cycle in lib/', () => {
  expect(cycles(graph)).toEqual([]);
});

test('no run-time import from a lower layer to a higher one; lib/private and the engines take types only from above', () => {
  expect(upwardImports(graph, rank)).toEqual([]);
  expect(crossings(graph)).toEqual([]);
});

test('the checks find what they look for', () => {
  // a fixture over real paths: a helper importing a construct, a cycle through a dynamic import
  const files: Record<string, string> = {
    'lib/private/validate.ts': "import { Camera } from '../camera';\nimport type { IVideoStream } from '../video-stream';\n",
    'lib/camera.ts': "import { show } from './private/validate';\nexport { x } from './face-search-engine';\n",
    'lib/face-search-engine.ts': "export const x = 1;\nasync function f() { return import('./camera'); }\n",
  };
  const edges = Object.entries(files).flatMap(([file, text]) => importsOf(ROOT, file, text));
  expect(edges).toEqual([
    { from: 'lib/private/validate.ts', to: 'lib/camera.ts', typeOnly: false },
    { from: 'lib/private/validate.ts', to: 'lib/video-stream.ts', typeOnly: true },
    { from: 'lib/camera.ts', to: 'lib/private/validate.ts', typeOnly: false },
    { from: 'lib/camera.ts', to: 'lib/face-search-engine.ts', typeOnly: false },
    { from: 'lib/face-search-engine.ts', to: 'lib/camera.ts', typeOnly: false },
  ]);
  expect(cycles(edges)).toEqual([['lib/camera.ts', 'lib/face-search-engine.ts', 'lib/private/validate.ts']]);
  expect(upwardImports(edges, rank)).toEqual([
    'lib/private/validate.ts imports lib/camera.ts, a higher layer (only `import type` may point up)',
    'lib/face-search-engine.ts imports lib/camera.ts, a higher layer (only `import type` may point up)',
  ]);
  expect(crossings([{ from: 'lib/runtime/face-consumer/index.ts', to: 'lib/runtime/frame-sampler/records.ts', typeOnly: false }, { from: 'lib/camera.ts', to: 'lib/cli/exit.ts', typeOnly: false }])).toEqual([
    'lib/runtime/face-consumer/index.ts imports lib/runtime/frame-sampler/records.ts, another handler\'s module',
    'lib/camera.ts loads lib/cli/exit.ts: handler and CLI code is bundled apart (only `import type` may reach it)',
  ]);
});
