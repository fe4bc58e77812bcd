/**
 * PutMedia: the bundled CLI's put-media streaming an MKV to a local Kinesis Video Streams endpoint,
 * against `curl -T` (chunked) of the same file to the same server, and a Node `pipe()` upload.
 * Throughput is measured at the server (first to last body byte); CPU (user + system) and peak
 * RSS of the CLI and of curl are their own, as child processes, from GNU time (/usr/bin/time).
 * Memory must not grow with the file: peak RSS for a 4x larger file is compared with the first.
 * What Node itself costs is measured alike, in the same environment: its start-up alone (an empty
 * script: the floor under any Node CLI) and a bare Node upload of the same file in its own process.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { cliEnv } from '../test/support/cli-env';
import { FakeKinesisVideo } from '../test/support/fake-kinesis-video';
import { makeMkv } from '../test/support/mkv';
import { BenchContext, median, root, Row, RUNS } from './common';

const TIME = '/usr/bin/time';
const CURL = '/usr/bin/curl';
/** CLI_BUNDLE: another build of the CLI to measure (as in test/put-media-cli.test.ts). */
const CLI = process.env.CLI_BUNDLE ?? path.join(root, 'assets', 'cli', 'index.js');
/**
 * Runs of each command per GNU time measurement: GNU time gives CPU in 10 ms steps, about one curl
 * upload, so 20 runs make a step 0.5 ms a run (with 5, the step was 8% of curl's figure).
 */
const REPEAT = 20;

interface Measure {
  /** MiB/s at the server. */
  readonly rate: number;
  /** user + system seconds (child processes only). */
  readonly cpu: number;
  /** peak RSS, MiB (child processes only). */
  readonly rss: number;
}

export async function bench(ctx: BenchContext): Promise<Row[]> {
  for (const tool of [TIME, CURL]) {
    if (!existsSync(tool)) {
      throw new Error(`${tool} is needed by the put-media benchmark (Debian packages time and curl)`);
    }
  }
  const kvs = new FakeKinesisVideo();
  const url = await kvs.start();
  kvs.streams.add('bench');
  try {
    return await run(ctx.dir, kvs, url);
  } finally {
    await kvs.stop();
  }
}

async function run(dir: string, kvs: FakeKinesisVideo, url: string): Promise<Row[]> {
  const small = path.join(dir, 'bench-50.mkv');
  const large = path.join(dir, 'bench-200.mkv');
  const mkv = makeMkv({ clusters: 50, framesPerCluster: 100, frameBytes: 10_000 });
  writeFileSync(small, mkv);
  // 4x the small file: 200 clusters
  writeFileSync(large, makeMkv({ clusters: 200, framesPerCluster: 100, frameBytes: 10_000 }));
  const mib = mkv.length / 1024 / 1024;
  const env = cliEnv(url, dir);
  /** The median throughput the server saw since the last call. */
  const serverRate = (): number => {
    const rates = kvs.timings.map((t) => t.bytes / 1024 / 1024 / (Number(t.last - t.first) / 1e9));
    kvs.timings.length = 0;
    return median(rates);
  };
  /**
   * A command run `repeat` times in a row under GNU time: CPU per run, peak RSS, and the throughput
   * the server saw.
   */
  const timed = async (command: string[], repeat = REPEAT): Promise<Measure> => {
    const out = path.join(dir, 'time.txt');
    const loop = `for i in $(seq ${repeat}); do "$@" || exit 1; done`;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(TIME, ['-f', '%U %S %M', '-o', out, 'sh', '-c', loop, 'sh', ...command], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) {
      throw new Error(`${command.join(' ')} exited ${code}`);
    }
    const [user, system, rssKb] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return { rate: serverRate(), cpu: (user + system) / repeat, rss: rssKb / 1024 };
  };
  // node's start-up alone, in the same environment as the CLI (the environment matters: a
  // NODE_EXTRA_CA_CERTS, for one, makes every node process parse a certificate bundle first)
  const empty = path.join(dir, 'empty.js');
  writeFileSync(empty, '');
  const nodeAlone = (): Promise<Measure> => timed([process.execPath, empty]);
  // about the least a Node process spends to move the bytes: 1 MiB synchronous reads, each written
  // to a chunked http request once the one before is flushed
  const bare = path.join(dir, 'bare-upload.js');
  writeFileSync(bare, [
    "const fs = require('node:fs');",
    "const req = require('node:http').request(process.argv[3], { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => res.resume());",
    "const fd = fs.openSync(process.argv[2], 'r');",
    'const buffers = [Buffer.allocUnsafe(1 << 20), Buffer.allocUnsafe(1 << 20)];',
    'let n = 0;',
    '(function next() {',
    '  const buffer = buffers[n++ % 2];',
    '  const bytes = fs.readSync(fd, buffer, 0, buffer.length, null);',
    '  return bytes === 0 ? req.end() : req.write(buffer.subarray(0, bytes), next);',
    '})();',
  ].join('\n'));
  const bareUpload = (file: string) => timed([process.execPath, bare, file, `${url}/upload`]);
  const putMedia = (file: string, repeat = REPEAT) => timed([process.execPath, CLI, 'put-media', '--stream', 'bench', '--quiet', file], repeat);
  const curl = (file: string) => timed([CURL, '-sS', '-o', '/dev/null', '-T', file, '-H', 'Transfer-Encoding: chunked', `${url}/upload`]);
  const pipe = async (file: string): Promise<number> => {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${url}/upload`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      createReadStream(file).pipe(req);
    });
    return serverRate();
  };

  kvs.keepBodies = false;
  await putMedia(small); // warm the file system cache and the server
  await curl(small);
  await pipe(small);
  const runs = Math.max(3, Math.floor(RUNS / 7));
  const p: Measure[] = [];
  const c: Measure[] = [];
  const n: number[] = [];
  const pl: Measure[] = [];
  const floor: Measure[] = [];
  const b: Measure[] = [];
  for (let i = 0; i < runs; i++) {
    floor.push(await nodeAlone());
    // interleaved, so drift in machine load hits all alike
    p.push(await putMedia(small));
    c.push(await curl(small));
    n.push(await pipe(small));
    b.push(await bareUpload(small));
    // only its peak RSS is a figure, which needs no CPU resolution: one run, not REPEAT (4x the bytes)
    pl.push(await putMedia(large, 1));
  }
  const m = (values: Measure[], key: keyof Measure) => median(values.map((v) => v[key]));
  const detail = `median of ${runs} x ${REPEAT} runs; a ${mib.toFixed(0)} MiB MKV to the same local server`;
  const cpu = m(p, 'cpu');
  const curlCpu = m(c, 'cpu');
  const nodeCpu = m(floor, 'cpu');
  return [
    {
      benchmark: 'PutMedia throughput: put-media vs curl -T (chunked), at the server, first to last body byte',
      subject: `${m(p, 'rate').toFixed(0)} MiB/s`,
      baseline: `${m(c, 'rate').toFixed(0)} MiB/s`,
      ratio: m(p, 'rate') / m(c, 'rate'),
      detail: `${detail}; higher is better (target >= 0.6x)`,
    },
    {
      benchmark: 'PutMedia CPU: put-media vs curl -T, user + system of the child process',
      subject: `${cpu.toFixed(3)} s`,
      baseline: `${curlCpu.toFixed(3)} s`,
      ratio: cpu / curlCpu,
      detail: `${detail}; lower is better (target <= 3x); includes node start-up (next row) and GetDataEndpoint`,
    },
    {
      benchmark: 'PutMedia CPU floor: node running an empty script (same environment) vs curl -T',
      subject: `${nodeCpu.toFixed(3)} s`,
      baseline: `${curlCpu.toFixed(3)} s`,
      ratio: nodeCpu / curlCpu,
      detail: `median of ${runs} x ${REPEAT} runs; node's start-up and exit alone, which any Node CLI spends before its first line`,
    },
    {
      benchmark: 'PutMedia CPU beyond the floor: put-media minus node start-up, vs curl -T',
      subject: `${(cpu - nodeCpu).toFixed(3)} s`,
      baseline: `${curlCpu.toFixed(3)} s`,
      ratio: (cpu - nodeCpu) / curlCpu,
      detail: `${detail}; what the CLI's own work costs: loading its bundle, GetDataEndpoint, signing, reading, sending, the acknowledgements`,
    },
    {
      benchmark: 'PutMedia CPU: a bare Node upload vs curl -T, user + system of the child process',
      subject: `${m(b, 'cpu').toFixed(3)} s`,
      baseline: `${curlCpu.toFixed(3)} s`,
      ratio: m(b, 'cpu') / curlCpu,
      detail: `${detail}; 1 MiB synchronous reads written to a chunked http.request, in a node process of its own: about the least Node spends to move the bytes (start-up included), with no AWS request, signing or acknowledgements`,
    },
    {
      benchmark: 'PutMedia peak memory: put-media vs curl -T, peak RSS of the child process',
      subject: `${m(p, 'rss').toFixed(1)} MiB`,
      baseline: `${m(c, 'rss').toFixed(1)} MiB`,
      ratio: m(p, 'rss') / m(c, 'rss'),
      detail: `${detail}; most of it is node itself (an empty script: ${m(floor, 'rss').toFixed(1)} MiB)`,
    },
    {
      benchmark: 'PutMedia peak memory: put-media of a 4x larger file vs the first',
      subject: `${m(pl, 'rss').toFixed(1)} MiB`,
      baseline: `${m(p, 'rss').toFixed(1)} MiB`,
      ratio: m(pl, 'rss') / m(p, 'rss'),
      detail: `${(mib * 4).toFixed(0)} MiB vs ${mib.toFixed(0)} MiB (median of ${runs} x 1 run vs ${runs} x ${REPEAT}); about 1x: memory does not grow with the file`,
    },
    {
      benchmark: 'PutMedia throughput: put-media vs a Node pipe() upload, at the server',
      subject: `${m(p, 'rate').toFixed(0)} MiB/s`,
      baseline: `${median(n).toFixed(0)} MiB/s`,
      ratio: m(p, 'rate') / median(n),
      detail: `${detail}; baseline: createReadStream(file).pipe(http.request) in the bench process; higher is better`,
    },
  ];
}
