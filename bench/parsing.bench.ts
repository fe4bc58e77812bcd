/**
 * Record parsing: decode + validate + normalise, against the floor
 * `JSON.parse(Buffer.from(data, 'base64').toString())` over the same records.
 *
 * Two corpora: the one issue 15 sets the target on (documented-shape records, each with 1-5
 * faces and 0-3 matches a face) and the mixed corpus of a busy camera (empty frames and crowds
 * of 10 too).
 */
import { parseFaceRecord } from '../lib/runtime/face-records/parser';
import { median, recordCorpus, Row, RUNS, timeLoop } from './common';
import { recordWith, toData } from '../test/fixtures/face-records';

export async function bench(): Promise<Row[]> {
  return [compareParsing('documented-shape records, 1-5 faces, 0-3 matches a face', documentedShapeCorpus()), compareParsing('mixed corpus: 0-10 faces', recordCorpus())];
}

/**
 * 200 records of the documented shape (landmarks, pose, quality, full matched faces): every
 * combination of 1-5 faces and 0-3 matches a face occurs, from a fixed seed so that runs compare.
 */
function documentedShapeCorpus(): string[] {
  let seed = 15;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  const corpus: string[] = [];
  for (let i = 0; i < 200; i++) {
    const faces = Array.from({ length: 1 + (i % 5) }, (_, f) => ({
      matches: Array.from({ length: next(4) }, (_m, m) => `person-${i}-${f}-${m}`),
    }));
    corpus.push(toData(recordWith(faces, { producerTime: 1700000000 + i * 0.2, offset: next(30) * 0.033 })));
  }
  return corpus;
}

function compareParsing(name: string, corpus: string[]): Row {
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
  const chars = corpus.reduce((n, d) => n + d.length, 0);
  const faces = corpus.reduce((n, d) => n + parseFaceRecord(d, 'cam').length, 0);
  return {
    benchmark: `record parsing, ${name}: decode + validate + normalise (median of ${RUNS} rounds of 20 x ${corpus.length} records)`,
    subject: `${median(a).toFixed(1)} ms`,
    baseline: `${median(b).toFixed(1)} ms`,
    ratio: median(a) / median(b),
    detail: `floor: JSON.parse(Buffer.from(data, 'base64').toString()); ${(chars / corpus.length).toFixed(0)} base64 chars and ${(faces / corpus.length).toFixed(1)} faces a record (sink ${sink > 0})`,
  };
}
