/**
 * Reads the structure of a whole Matroska (MKV) file, independently of the CLI's streaming scanner:
 * each Cluster's Timecode and its frames (SimpleBlocks, and Blocks in BlockGroups) with their
 * track, timecode (cluster + relative, in TimecodeScale units) and keyframe flag. For checking what
 * ffmpeg and GStreamer wrote, and for the local PutMedia server's rules.
 */

export interface MkvFrame {
  readonly track: number;
  /** The frame's timecode: the Cluster's Timecode plus the block's relative timecode. */
  readonly timecode: number;
  readonly keyframe: boolean;
}

export interface MkvCluster {
  readonly timecode: number;
  readonly frames: MkvFrame[];
}

export interface MkvStructure {
  /** Nanoseconds per timecode unit (1,000,000 by default: milliseconds). */
  readonly timecodeScale: number;
  readonly clusters: MkvCluster[];
}

const EBML = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TIMECODE_SCALE = 0x2ad7b1;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const REFERENCE_BLOCK = 0xfb;

/** Top-level (Segment children) ids: a Cluster of unknown size ends where one of these starts. */
const LEVEL1 = new Set([0x114d9b74, INFO, 0x1654ae6b, 0x1c53bb6b, 0x1941a469, 0x1043a770, 0x1254c367, CLUSTER, 0xec]);

function vint(data: Buffer, at: number): { value: number; length: number; unknown: boolean } {
  const first = data[at];
  const length = first === 0 ? 0 : Math.clz32(first) - 23;
  if (length === 0 || at + length > data.length) {
    throw new Error(`bad EBML integer at byte ${at}`);
  }
  const mask = 0xff >> length;
  let value = first & mask;
  let allOnes = value === mask;
  for (let k = 1; k < length; k++) {
    value = value * 256 + data[at + k];
    allOnes = allOnes && data[at + k] === 0xff;
  }
  return { value, length, unknown: allOnes };
}

function header(data: Buffer, at: number): { id: number; size: number | undefined; start: number } {
  const first = data[at];
  const idLength = first === 0 ? 0 : Math.clz32(first) - 23;
  if (idLength === 0 || idLength > 4) {
    throw new Error(`bad element id at byte ${at}`);
  }
  let id = 0;
  for (let k = 0; k < idLength; k++) {
    id = id * 256 + data[at + k];
  }
  const size = vint(data, at + idLength);
  return { id, size: size.unknown ? undefined : size.value, start: at + idLength + size.length };
}

function uint(data: Buffer, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    v = v * 256 + data[i];
  }
  return v;
}

/** The block's track, relative timecode and flags byte. */
function block(data: Buffer, at: number): { track: number; relative: number; flags: number } {
  const track = vint(data, at);
  const relative = data.readInt16BE(at + track.length);
  return { track: track.value, relative, flags: data[at + track.length + 2] };
}

export function readMkv(data: Buffer): MkvStructure {
  let timecodeScale = 1_000_000;
  const clusters: MkvCluster[] = [];
  let at = 0;
  while (at < data.length) {
    const top = header(data, at);
    if (top.id === EBML) {
      at = top.start + top.size!;
      continue;
    }
    if (top.id !== SEGMENT) {
      throw new Error(`expected a Segment at byte ${at}, found 0x${top.id.toString(16)}`);
    }
    const segmentEnd = top.size === undefined ? data.length : top.start + top.size;
    at = top.start;
    while (at < segmentEnd) {
      const el = header(data, at);
      if (el.id === INFO) {
        const end = el.start + el.size!;
        for (let p = el.start; p < end;) {
          const child = header(data, p);
          if (child.id === TIMECODE_SCALE) {
            timecodeScale = uint(data, child.start, child.start + child.size!);
          }
          p = child.start + child.size!;
        }
        at = end;
      } else if (el.id === CLUSTER) {
        let p = el.start;
        const known = el.size !== undefined ? el.start + el.size : undefined;
        const cluster: { timecode: number; frames: MkvFrame[] } = { timecode: 0, frames: [] };
        while (p < (known ?? segmentEnd)) {
          const child = header(data, p);
          if (known === undefined && LEVEL1.has(child.id)) {
            break; // a Cluster of unknown size ends at the next top-level element
          }
          const end = child.start + child.size!;
          if (child.id === TIMECODE) {
            cluster.timecode = uint(data, child.start, end);
          } else if (child.id === SIMPLE_BLOCK) {
            const b = block(data, child.start);
            cluster.frames.push({ track: b.track, timecode: cluster.timecode + b.relative, keyframe: (b.flags & 0x80) !== 0 });
          } else if (child.id === BLOCK_GROUP) {
            let b: ReturnType<typeof block> | undefined;
            let referenced = false;
            for (let q = child.start; q < end;) {
              const g = header(data, q);
              if (g.id === BLOCK) b = block(data, g.start);
              if (g.id === REFERENCE_BLOCK) referenced = true;
              q = g.start + g.size!;
            }
            if (b) cluster.frames.push({ track: b.track, timecode: cluster.timecode + b.relative, keyframe: !referenced });
          }
          p = end;
        }
        clusters.push(cluster);
        at = p;
      } else {
        at = el.start + el.size!;
      }
    }
  }
  return { timecodeScale, clusters };
}
