/**
 * PutMedia: the bundled CLI's put-media streaming an MKV to a local Kinesis Video Streams endpoint,
 * against `curl -T` (chunked) of the same file to the same server, and a Node `pipe()` upload.
 * Throughput is measured at the server (first to last body byte); CPU (user + system) and peak
 * RSS of the CLI and of curl are their own, as child processes, from GNU time (/usr/bin/time).
 * Memory must not grow with the file: peak RSS for a 4x larger file is compared with the first.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { FakeKinesisVideo } from '../test/support/fake-kinesis-video';
import { makeMkv } from '../test/support/mkv';
import { BenchContext, median, root, Row, RUNS } from './common';

const TIME = '/usr/bin/time';
const CURL = '/usr/bin/curl';
const CLI = path.join(root, 'assets', 'cli', 'index.js');
/** Runs of each command per GNU time measurement. */
const REPEAT = 5;

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
  const env = {
    PATH: process.env.PATH,
    NODE_NO_WARNINGS: '1',
    AWS_ENDPOINT_URL_KINESIS_VIDEO: url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
  };
  /** The median throughput the server saw since the last call. */
  const serverRate = (): number => {
    const rates = kvs.timings.map((t) => t.bytes / 1024 / 1024 / (Number(t.last - t.first) / 1e9));
    kvs.timings.length = 0;
    return median(rates);
  };
  /**
   * A command run REPEAT times in a row under GNU time (whose CPU figures are in 10 ms steps: one
   * curl upload takes about that): CPU per run, peak RSS, and the throughput the server saw.
   */
  const timed = async (command: string[]): Promise<Measure> => {
    const out = path.join(dir, 'time.txt');
    const loop = `for i in $(seq ${REPEAT}); do "$@" || exit 1; done`;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(TIME, ['-f', '%U %S %M', '-o', out, 'sh', '-c', loop, 'sh', ...command], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) {
      throw new Error(`${command.join(' ')} exited ${code}`);
    }
    const [user, system, rssKb] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return { rate: serverRate(), cpu: (user + system) / REPEAT, rss: rssKb / 1024 };
  };
  const cpuOf = async (command: string[]): Promise<number> => {
    const out = path.join(dir, 'time.txt');
    const loop = `for i in $(seq ${REPEAT}); do "$@" || exit 1; done`;
    await new Promise((resolve) => spawn(TIME, ['-f', '%U %S', '-o', out, 'sh', '-c', loop, 'sh', ...command], { stdio: 'ignore' }).on('close', resolve));
    const [user, system] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    return (user + system) / REPEAT;
  };
  const putMedia = (file: string) => timed([process.execPath, CLI, 'put-media', '--stream', 'bench', '--quiet', file]);
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
  const nodeAlone: number[] = [];
  for (let i = 0; i < runs; i++) {
    nodeAlone.push(await cpuOf([process.execPath, '-e', '0']));
    // interleaved, so drift in machine load hits all alike
    p.push(await putMedia(small));
    c.push(await curl(small));
    n.push(await pipe(small));
    pl.push(await putMedia(large));
  }
  const m = (values: Measure[], key: keyof Measure) => median(values.map((v) => v[key]));
  const detail = `median of ${runs} x ${REPEAT} runs; a ${mib.toFixed(0)} MiB MKV to the same local server`;
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
      subject: `${m(p, 'cpu').toFixed(3)} s`,
      baseline: `${m(c, 'cpu').toFixed(3)} s`,
      ratio: m(p, 'cpu') / m(c, 'cpu'),
      detail: `${detail}; lower is better (target <= 3x); includes node start-up (node -e 0 alone: ${median(nodeAlone).toFixed(3)} s, ${(median(nodeAlone) / m(c, 'cpu')).toFixed(1)}x curl) and the SDK's GetDataEndpoint`,
    },
    {
      benchmark: 'PutMedia peak memory: put-media vs curl -T, peak RSS of the child process',
      subject: `${m(p, 'rss').toFixed(1)} MiB`,
      baseline: `${m(c, 'rss').toFixed(1)} MiB`,
      ratio: m(p, 'rss') / m(c, 'rss'),
      detail: `${detail}; most of it is node itself`,
    },
    {
      benchmark: 'PutMedia peak memory: put-media of a 4x larger file vs the first',
      subject: `${m(pl, 'rss').toFixed(1)} MiB`,
      baseline: `${m(p, 'rss').toFixed(1)} MiB`,
      ratio: m(pl, 'rss') / m(p, 'rss'),
      detail: `${(mib * 4).toFixed(0)} MiB vs ${mib.toFixed(0)} MiB; about 1x: memory does not grow with the file`,
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
