/**
 * Record parsing: decode + validate + normalise, against the floor
 * `JSON.parse(Buffer.from(data, 'base64').toString())` over the same records.
 */
import { parseFaceRecord } from '../lib/runtime/face-records/parser';
import { median, recordCorpus, Row, RUNS, timeLoop } from './common';

export async function bench(): Promise<Row[]> {
  return [compareParsing()];
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

