/**
 * The MKV scanner of put-media (lib/cli/mkv-scanner.ts): every Cluster is a fragment, acknowledged
 * by its Timecode. Checked at every split of the stream into chunks, for Clusters of known and of
 * unknown size (as live muxers write them), against a reference that reads every element header
 * one byte at a time; and the fragment rules it checks from the frames' block headers.
 */
import { MkvScanner } from '../lib/cli/mkv-scanner';
import { makeMkv } from './support/mkv';

/** An EBML variable-size integer of `width` bytes; `unknown` writes the reserved all-ones value. */
function vint(value: number, width = 8, unknown = false): Buffer {
  const bytes = Buffer.alloc(width, unknown ? 0xff : 0);
  if (!unknown) {
    let v = value;
    for (let i = width - 1; i >= 0; i--) {
      bytes[i] = v % 256;
      v = Math.floor(v / 256);
    }
  }
  bytes[0] = (bytes[0] & (0xff >> width)) | (1 << (8 - width));
  return bytes;
}

const id = (value: number) => Buffer.from(value.toString(16).padStart(value > 0xffffff ? 8 : value > 0xffff ? 6 : value > 0xff ? 4 : 2, '0'), 'hex');
const element = (elementId: number, body: Buffer, sizeWidth = 8) => Buffer.concat([id(elementId), vint(body.length, sizeWidth), body]);
const unknownSize = (elementId: number, body: Buffer) => Buffer.concat([id(elementId), vint(0, 8, true), body]);
/** A Cluster Timecode: the value big-endian in `width` bytes. */
const timecode = (value: number, width = 2) => element(0xe7, Buffer.from(value.toString(16).padStart(width * 2, '0'), 'hex'), 1);
const block = (bytes: number, fill = 0) => element(0xa3, Buffer.concat([Buffer.from([0x81, 0, 0, 0x80]), Buffer.alloc(bytes, fill)]), 3);
const EBML = element(0x1a45dfa3, element(0x4282, Buffer.from('matroska'), 1), 1);

/** A stream with live muxer sizes: Segment and Clusters of unknown size. */
function liveMkv(clusters: number[][]): Buffer {
  return Buffer.concat([EBML, unknownSize(0x18538067, Buffer.concat(clusters.map(([tc, ...frames]) => unknownSize(0x1f43b675, Buffer.concat([timecode(tc), ...frames.map((f) => block(f))])))))]);
}

interface Scan {
  readonly timecodes: number[];
  readonly fragments: number;
  readonly lost?: string;
}

function scan(data: Buffer, cuts: number[]): Scan {
  const scanner = new MkvScanner();
  const timecodes: number[] = [];
  scanner.onFragment = (tc) => timecodes.push(tc);
  let at = 0;
  for (const cut of [...cuts, data.length]) {
    scanner.push(data.subarray(at, cut));
    at = cut;
  }
  return { timecodes, fragments: scanner.fragments, ...(scanner.lost !== undefined ? { lost: scanner.lost } : {}) };
}

/** The reference: element headers read byte by byte, Segments and Clusters entered, everything else skipped. */
function reference(data: Buffer): Scan {
  const timecodes: number[] = [];
  let fragments = 0;
  let i = 0;
  while (i < data.length) {
    const idLength = data[i] === 0 ? 0 : Math.clz32(data[i]) - 23;
    if (idLength === 0 || idLength > 4) {
      return { timecodes, fragments, lost: `byte 0x${data[i].toString(16)} cannot start an element id` };
    }
    const elementId = data.subarray(i, i + idLength).reduce((v, b) => v * 256 + b, 0);
    const sizeLength = data[i + idLength] === 0 ? 0 : Math.clz32(data[i + idLength]) - 23;
    const sizeBytes = data.subarray(i + idLength, i + idLength + sizeLength);
    const size = sizeBytes.reduce((v, b, k) => v * 256 + (k === 0 ? b & (0xff >> sizeLength) : b), 0);
    const unknown = sizeBytes.every((b, k) => (k === 0 ? (b & (0xff >> sizeLength)) === 0xff >> sizeLength : b === 0xff));
    i += idLength + sizeLength;
    if (elementId === 0x18538067) {
      continue;
    }
    if (elementId === 0x1f43b675) {
      fragments++;
      continue;
    }
    if (unknown) {
      return { timecodes, fragments, lost: `element 0x${elementId.toString(16)} of unknown size` };
    }
    if (elementId === 0xe7 && size > 0 && size <= 6) {
      timecodes.push(data.subarray(i, i + size).reduce((v, b) => v * 256 + b, 0));
    }
    i += size;
  }
  return { timecodes, fragments };
}

/** Chunkings of `data`: at every offset in two, and in pieces of a few sizes. */
function chunkings(data: Buffer): number[][] {
  const all: number[][] = [[]];
  for (let cut = 1; cut < data.length; cut++) {
    all.push([cut]);
  }
  for (const size of [1, 2, 3, 5, 7, 11, 64, 1000]) {
    all.push(Array.from({ length: Math.ceil(data.length / size) - 1 }, (_, k) => (k + 1) * size));
  }
  return all;
}

test.each([
  ['the test fixtures (known sizes)', makeMkv({ clusters: 4, framesPerCluster: 3, frameBytes: 40 })],
  ['live muxer sizes (Segment and Clusters of unknown size)', liveMkv([[0, 30, 40], [1000, 50], [2000, 10, 10, 10]])],
  ['frames that look like a Cluster', Buffer.concat([EBML, element(0x18538067, Buffer.concat([0, 1000].map((tc) =>
    element(0x1f43b675, Buffer.concat([timecode(tc), element(0xa3, Buffer.from('1f43b6751f43b675e78100', 'hex'), 1)])))))])],
  ['live muxer Clusters whose frames look like a Cluster', Buffer.concat([EBML, unknownSize(0x18538067, Buffer.concat([0, 1000].map((tc) =>
    unknownSize(0x1f43b675, Buffer.concat([timecode(tc), element(0xa3, Buffer.from('1f43b675ff', 'hex'), 1)])))))])],
  ['a Void element before the Timecode', Buffer.concat([EBML, element(0x18538067, Buffer.concat([
    element(0x1f43b675, Buffer.concat([element(0xec, Buffer.alloc(5), 1), timecode(7, 3), block(20)])),
    element(0x1f43b675, Buffer.concat([timecode(9), element(0xec, Buffer.alloc(3), 1), block(20)])),
  ]))])],
])('%s: every Cluster and its Timecode, at every split', (_, data) => {
  const expected = reference(data);
  expect(expected.lost).toBeUndefined();
  expect(expected.fragments).toBeGreaterThan(0);
  expect(expected.timecodes).toHaveLength(expected.fragments);
  for (const cuts of chunkings(data)) {
    expect({ cuts, ...scan(data, cuts) }).toEqual({ cuts, ...expected });
  }
});

test('a 50-cluster stream in 1 MiB chunks, as put-media reads a file', () => {
  const data = makeMkv({ clusters: 50, framesPerCluster: 100, frameBytes: 10_000 });
  const cuts = Array.from({ length: Math.ceil(data.length / 2 ** 20) - 1 }, (_, k) => (k + 1) * 2 ** 20);
  expect(scan(data, cuts)).toEqual({ fragments: 50, timecodes: Array.from({ length: 50 }, (_, k) => k * 1000) });
});

test('bytes that cannot be an element: the scanner says where it lost the structure', () => {
  const data = Buffer.concat([EBML, Buffer.from([0x00, 0x01, 0x02])]);
  expect(scan(data, [])).toEqual({ fragments: 0, timecodes: [], lost: `byte 0x0 cannot start an element id near byte 0` });
  expect(scan(data, [EBML.length])).toEqual({ fragments: 0, timecodes: [], lost: `byte 0x0 cannot start an element id near byte ${EBML.length}` });
  // a valid id followed by a size byte of 0
  expect(scan(Buffer.from([0xa3, 0x00, 0x01]), [1]).lost).toBe('byte 0x0 cannot start an element size near byte 1');
});

test('an element of unknown size inside a Cluster, before its Timecode, loses the structure', () => {
  const data = Buffer.concat([EBML, unknownSize(0x18538067, unknownSize(0x1f43b675, Buffer.concat([unknownSize(0xa3, Buffer.alloc(4)), timecode(5)])))]);
  for (const cuts of chunkings(data)) {
    const result = scan(data, cuts);
    expect(result).toMatchObject({ fragments: 1, timecodes: [] });
    expect(result.lost).toMatch(/^element 0xa3 of unknown size near byte \d+$/);
  }
});

/** A SimpleBlock of track 1: relative timecode, keyframe flag, `bytes` of frame data. */
const frame = (relative: number, keyframe: boolean, bytes = 20) => {
  const head = Buffer.from([0x81, 0, 0, keyframe ? 0x80 : 0x00]);
  head.writeInt16BE(relative, 1);
  return element(0xa3, Buffer.concat([head, Buffer.alloc(bytes, 0x1f)]), 2);
};
/** A BlockGroup: a Block, with a ReferenceBlock when it is not a keyframe. */
const group = (relative: number, keyframe: boolean) => {
  const head = Buffer.from([0x81, 0, 0, 0]);
  head.writeInt16BE(relative, 1);
  return element(0xa0, Buffer.concat([element(0xa1, Buffer.concat([head, Buffer.alloc(20)]), 1), ...(keyframe ? [] : [element(0xfb, Buffer.from([0xff, 0x9c]), 1)])]), 1);
};
const clusters = (...bodies: Buffer[][]) => Buffer.concat([EBML, unknownSize(0x18538067, Buffer.concat(bodies.map((b, k) => element(0x1f43b675, Buffer.concat([timecode(k * 1000), ...b]), 2))))]);

test.each([
  ['every fragment starting on a keyframe, frames in decode order (closed-GOP B-frames)', clusters([frame(0, true), frame(67, false), frame(33, false)], [group(0, true), frame(67, false), frame(33, false)]), undefined],
  ['a fragment starting on a frame that is not a keyframe', clusters([frame(0, true), frame(33, false)], [frame(0, false), frame(33, true)]), 'the fragment at timecode 1000 does not start with a keyframe'],
  ['a BlockGroup first frame with a ReferenceBlock', clusters([group(0, false), frame(33, false)]), 'the fragment at timecode 0 does not start with a keyframe'],
  ['a frame before its fragment (open GOP)', clusters([frame(0, true)], [frame(0, true), frame(-33, false)]), 'the fragment at timecode 1000 has a frame at timecode 967, before the fragment\'s start (B-frames of an open GOP)'],
])('%s: found at every split', (_, data, invalid) => {
  const { fragments } = reference(data);
  for (const cuts of chunkings(data)) {
    const scanner = new MkvScanner();
    let at = 0;
    for (const cut of [...cuts, data.length]) {
      scanner.push(data.subarray(at, cut));
      at = cut;
    }
    expect({ cuts, lost: scanner.lost, invalid: scanner.invalid, fragments: scanner.fragments }).toEqual({ cuts, lost: undefined, invalid, fragments });
  }
});
