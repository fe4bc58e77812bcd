/**
 * Benchmarks, `npm run bench`. Every figure is a ratio against a baseline measured in the same
 * run on the same machine, never an absolute time compared with a fixed number.
 *
 * - stream-processor and consumer handlers: bundle size, and cold module load time (a fresh `node`
 *   process that requires the bundle, net of node's own start-up) against an esbuild bundle of only
 *   the SDK clients and commands each calls.
 * - record parsing: decode + validate + normalise against the floor
 *   `JSON.parse(Buffer.from(data, 'base64').toString())` over the same records.
 * - PutEvents calls per batch: the bundled consumer against a local EventBridge, against
 *   ceil(events / 10).
 * - PutMedia throughput: the bundled CLI's put-media streaming an MKV to a local Kinesis Video
 *   Streams endpoint, against a plain HTTP upload of the same file to the same server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { parseFaceRecord } from '../lib/runtime/face-records/parser';
import { recordWith, documentedRecord, toData } from '../test/fixtures/face-records';
import { FakeEventBridge } from '../test/support/fake-eventbridge';
import { FakeSqs } from '../test/support/fake-sqs';
import { FakeKinesisVideo } from '../test/support/fake-kinesis-video';
import { makeMkv } from '../test/support/mkv';
import { createReadStream } from 'node:fs';
import { request } from 'node:http';
import { handlerBuildOptions } from '../scripts/esbuild-options.mjs';

const root = path.join(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall time of `node -e require(file)` in a fresh process, in milliseconds. */
function coldLoad(file: string): number {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** An esbuild bundle of only the given SDK clients and commands, built like the handlers. */
function sdkBaseline(dir: string, name: string, clients: Record<string, { client: string; commands: string[] }>): string {
  const entry = path.join(dir, `${name}-entry.ts`);
  const lines: string[] = [];
  for (const [pkg, { client, commands }] of Object.entries(clients)) {
    lines.push(`import { ${client}, ${commands.join(', ')} } from '${pkg}';`);
    lines.push(`export const ${client}Instance = new ${client}({ maxAttempts: 1 });`);
    lines.push(`export const ${client}Commands = [${commands.join(', ')}];`);
  }
  writeFileSync(entry, lines.join('\n') + '\n');
  const outfile = path.join(dir, `${path.basename(entry, '.ts')}.js`);
  buildSync({
    entryPoints: [entry],
    outfile,
    ...handlerBuildOptions,
    nodePaths: [path.join(root, 'node_modules')],
  });
  return outfile;
}

interface Row {
  readonly benchmark: string;
  readonly subject: string;
  readonly baseline: string;
  readonly ratio: number;
  readonly detail: string;
}

function compareColdLoad(name: string, subject: string, baseline: string, empty: string): Row {
  coldLoad(subject); // warm the file system cache
  coldLoad(baseline);
  const a: number[] = [];
  const b: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // interleaved, so drift in machine load hits all alike
    a.push(coldLoad(subject));
    b.push(coldLoad(baseline));
    e.push(coldLoad(empty));
  }
  // node's own start-up (an empty module) is subtracted from both: what is left is module load
  const me = median(e);
  const ma = median(a) - me;
  const mb = median(b) - me;
  return {
    benchmark: `${name}: cold module load, net of node start-up (median of ${RUNS} fresh processes)`,
    subject: `${ma.toFixed(1)} ms`,
    baseline: `${mb.toFixed(1)} ms`,
    ratio: ma / mb,
    detail: `bundle ${(statSync(subject).size / 1024).toFixed(1)} KiB, SDK-only bundle ${(statSync(baseline).size / 1024).toFixed(1)} KiB`,
  };
}

function compareSizes(name: string, subject: string, baseline: string): Row {
  return {
    benchmark: `${name}: bundle size`,
    subject: `${statSync(subject).size} B`,
    baseline: `${statSync(baseline).size} B`,
    ratio: statSync(subject).size / statSync(baseline).size,
    detail: 'baseline: the same SDK clients and commands bundled alone',
  };
}

/** A corpus like a busy camera's: empty frames, single faces, crowds; matched and unknown. */
function recordCorpus(): string[] {
  const corpus: string[] = [];
  for (let i = 0; i < 200; i++) {
    const kind = i % 5;
    if (kind === 0) {
      corpus.push(toData(recordWith([], { producerTime: 1700000000 + i })));
    } else if (kind === 1) {
      corpus.push(toData(documentedRecord()));
    } else if (kind === 2) {
      corpus.push(toData(recordWith([{ matches: [] }], { producerTime: 1700000000 + i })));
    } else if (kind === 3) {
      corpus.push(toData(recordWith([{ matches: ['alice', 'alice-2'] }, { matches: [] }, { matches: ['bob'] }], { producerTime: 1700000000 + i })));
    } else {
      corpus.push(toData(recordWith(Array.from({ length: 10 }, (_, j) => ({ matches: j % 2 ? [`p${j}`] : [] })), { producerTime: 1700000000 + i })));
    }
  }
  return corpus;
}

function timeLoop(rounds: number, fn: () => void): number {
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    fn();
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function compareParsing(): Row {
  const corpus = recordCorpus();
  let sink = 0;
  const floor = () => {
    for (const data of corpus) {
      sink += JSON.parse(Buffer.from(data, 'base64').toString()) ? 1 : 0;
    }
  };
  const parse = () => {
    for (const data of corpus) {
      sink += parseFaceRecord(data, 'cam').length;
    }
  };
  // warm up both, then interleave rounds
  timeLoop(50, floor);
  timeLoop(50, parse);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(timeLoop(20, parse));
    b.push(timeLoop(20, floor));
  }
  const bytes = corpus.reduce((n, d) => n + d.length, 0);
  return {
    benchmark: `record parsing: decode + validate + normalise (median of ${RUNS} rounds of 20 x ${corpus.length} records)`,
    subject: `${median(a).toFixed(1)} ms`,
    baseline: `${median(b).toFixed(1)} ms`,
    ratio: median(a) / median(b),
    detail: `floor: JSON.parse(Buffer.from(data, 'base64').toString()); ${(bytes / corpus.length).toFixed(0)} base64 chars a record (sink ${sink > 0})`,
  };
}

async function countPutEvents(bundle: string): Promise<Row> {
  const eventBridge = new FakeEventBridge();
  const sqs = new FakeSqs();
  const [events, queue] = await Promise.all([eventBridge.start(), sqs.start()]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_EVENTBRIDGE: events,
    AWS_ENDPOINT_URL_SQS: queue,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    DEAD_LETTER_QUEUE_URL: `${queue}/123456789012/dlq`,
    DEDUPE_WINDOW_SECONDS: '0',
  });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle);
    const corpus = recordCorpus().slice(0, 100);
    const records = corpus.map((data, i) => ({
      eventSourceARN: 'arn:aws:kinesis:us-west-2:123456789012:stream/cam',
      kinesis: { data, sequenceNumber: String(1000 + i), partitionKey: 'p', approximateArrivalTimestamp: 0 },
    }));
    const response = await handler({ Records: records });
    const sent = eventBridge.events.length;
    const calls = eventBridge.callsOf('PutEvents').length;
    const bound = Math.ceil(sent / 10);
    return {
      benchmark: 'consumer: PutEvents calls for one batch of 100 records',
      subject: `${calls} calls`,
      baseline: `ceil(${sent} events / 10) = ${bound}`,
      ratio: calls / bound,
      detail: `${response.batchItemFailures.length} batch item failures`,
    };
  } finally {
    await Promise.all([eventBridge.stop(), sqs.stop()]);
  }
}

function plainUpload(url: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/upload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

async function comparePutMedia(dir: string): Promise<Row> {
  const kvs = new FakeKinesisVideo();
  const url = await kvs.start();
  kvs.streams.add('bench');
  const file = path.join(dir, 'bench.mkv');
  const mkv = makeMkv({ clusters: 64, framesPerCluster: 100, frameBytes: 10_000 });
  writeFileSync(file, mkv);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_KINESIS_VIDEO: url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
  });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { main: cli } = require(path.join(root, 'assets', 'cli', 'index.js'));
    const put = async () => {
      const start = process.hrtime.bigint();
      const code = await cli(['put-media', '--stream', 'bench', '--quiet', file]);
      if (code !== 0) {
        throw new Error(`put-media exited ${code}`);
      }
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const plain = async () => {
      const start = process.hrtime.bigint();
      await plainUpload(url, file);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await put();
    await plain();
    const a: number[] = [];
    const b: number[] = [];
    const runs = Math.max(5, Math.floor(RUNS / 2));
    for (let i = 0; i < runs; i++) {
      a.push(await put());
      b.push(await plain());
    }
    const mib = mkv.length / 1024 / 1024;
    const putRate = mib / (median(a) / 1000);
    const plainRate = mib / (median(b) / 1000);
    return {
      benchmark: `PutMedia throughput: put-media of a ${mib.toFixed(0)} MiB MKV (median of ${runs})`,
      subject: `${putRate.toFixed(0)} MiB/s`,
      baseline: `${plainRate.toFixed(0)} MiB/s`,
      ratio: putRate / plainRate,
      detail: 'baseline: a plain chunked HTTP upload of the same file to the same local server; ratio is throughput (higher is better)',
    };
  } finally {
    await kvs.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-'));
  const rows: Row[] = [];
  try {
    const empty = path.join(dir, 'empty.js');
    writeFileSync(empty, '');

    const processor = path.join(root, 'assets', 'stream-processor', 'index.js');
    const processorBaseline = sdkBaseline(dir, 'rekognition', {
      '@aws-sdk/client-rekognition': {
        client: 'RekognitionClient',
        commands: [
          'CreateStreamProcessorCommand',
          'DeleteStreamProcessorCommand',
          'DescribeStreamProcessorCommand',
          'StartStreamProcessorCommand',
          'StopStreamProcessorCommand',
          'TagResourceCommand',
          'UntagResourceCommand',
          'UpdateStreamProcessorCommand',
        ],
      },
    });
    rows.push(compareColdLoad('stream-processor handler', processor, processorBaseline, empty));
    rows.push(compareSizes('stream-processor handler', processor, processorBaseline));

    const consumer = path.join(root, 'assets', 'face-consumer', 'index.js');
    const consumerBaseline = sdkBaseline(dir, 'consumer', {
      '@aws-sdk/client-eventbridge': { client: 'EventBridgeClient', commands: ['PutEventsCommand'] },
      '@aws-sdk/client-sqs': { client: 'SQSClient', commands: ['SendMessageBatchCommand'] },
      '@aws-sdk/client-dynamodb': { client: 'DynamoDBClient', commands: ['PutItemCommand', 'UpdateItemCommand'] },
    });
    rows.push(compareColdLoad('consumer handler', consumer, consumerBaseline, empty));
    rows.push(compareSizes('consumer handler', consumer, consumerBaseline));

    rows.push(compareParsing());
    rows.push(await countPutEvents(consumer));
    rows.push(await comparePutMedia(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('| benchmark | subject | baseline | ratio | detail |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    console.log(`| ${row.benchmark} | ${row.subject} | ${row.baseline} | ${row.ratio.toFixed(3)}x | ${row.detail} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
