/**
 * PutMedia throughput: the bundled CLI's put-media streaming an MKV to a local Kinesis Video
 * Streams endpoint, against a plain HTTP upload of the same file to the same server.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { FakeKinesisVideo } from '../test/support/fake-kinesis-video';
import { makeMkv } from '../test/support/mkv';
import { BenchContext, median, root, Row, RUNS } from './common';

export async function bench(ctx: BenchContext): Promise<Row[]> {
  return [await comparePutMedia(ctx.dir)];
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

