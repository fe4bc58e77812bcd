/**
 * Warm `npx cdk synth` of the example app against `npx cdk synth` of a bare aws-cdk-lib app (one
 * stack, one queue) run the same way (the same CLI, tsx and node_modules), in the same run. A warm
 * synth bundles nothing (bundles whose inputs did not change are kept) and never runs jsii.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BenchContext, median, root, Row } from './common';

const RUNS = Number(process.env.BENCH_SYNTH_RUNS ?? 3);

function synth(cwd: string, out: string): number {
  const start = process.hrtime.bigint();
  execFileSync(path.join(root, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--output', out], { cwd, stdio: 'ignore', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export async function bench(ctx: BenchContext): Promise<Row[]> {
  const bare = path.join(ctx.dir, 'bare-app');
  mkdirSync(bare);
  symlinkSync(path.join(root, 'node_modules'), path.join(bare, 'node_modules'));
  writeFileSync(path.join(bare, 'cdk.json'), JSON.stringify({ app: 'npx tsx app.ts' }));
  writeFileSync(
    path.join(bare, 'app.ts'),
    "import { App, Stack } from 'aws-cdk-lib';\nimport * as sqs from 'aws-cdk-lib/aws-sqs';\nconst app = new App();\nnew sqs.Queue(new Stack(app, 'Bare'), 'Queue');\napp.synth();\n",
  );
  const exampleOut = path.join(ctx.dir, 'example.out');
  const bareOut = path.join(ctx.dir, 'bare.out');
  synth(root, exampleOut); // warm: bundles (if anything changed) and the file system cache
  synth(bare, bareOut);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(synth(root, exampleOut));
    b.push(synth(bare, bareOut));
  }
  return [
    {
      benchmark: `warm npx cdk synth of the example app (median of ${RUNS})`,
      subject: `${(median(a) / 1000).toFixed(2)} s`,
      baseline: `${(median(b) / 1000).toFixed(2)} s`,
      ratio: median(a) / median(b),
      detail: 'baseline: npx cdk synth of a bare aws-cdk-lib app (one stack, one queue) with the same CLI and tsx; target at most 4x',
    },
  ];
}
