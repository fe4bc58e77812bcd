/**
 * Writes small Matroska (MKV) files by code: an EBML header, a Segment with Info and one H.264
 * video track, and Clusters of SimpleBlocks, the structure Kinesis Video Streams reads as
 * fragments (one fragment per Cluster). The frame payloads are filler, not decodable video: the
 * tests check transport, not pictures.
 */
function vint(value: number): Buffer {
  // EBML variable-size integer of the smallest width that holds value (up to 8 bytes)
  for (let width = 1; width <= 8; width++) {
    if (value < 2 ** (7 * width) - 1) {
      const bytes = Buffer.alloc(width);
      let v = value;
      for (let i = width - 1; i >= 0; i--) {
        bytes[i] = v & 0xff;
        v = Math.floor(v / 256);
      }
      bytes[0] |= 1 << (8 - width);
      return bytes;
    }
  }
  throw new Error(`EBML size too large: ${value}`);
}

function element(id: number, ...children: Buffer[]): Buffer {
  const idBytes = Buffer.from(id.toString(16).padStart(id > 0xffffff ? 8 : id > 0xffff ? 6 : id > 0xff ? 4 : 2, '0'), 'hex');
  const body = Buffer.concat(children);
  return Buffer.concat([idBytes, vint(body.length), body]);
}

const uint = (id: number, value: number) => {
  const hex = value.toString(16);
  return element(id, Buffer.from(hex.padStart(hex.length + (hex.length % 2), '0'), 'hex'));
};
const str = (id: number, value: string) => element(id, Buffer.from(value, 'ascii'));

/** Element ids of Matroska. */
export const CLUSTER_ID = Buffer.from('1f43b675', 'hex');

export interface MkvOptions {
  /** Clusters (fragments), default 5. */
  readonly clusters?: number;
  /** Frames per cluster, default 10. */
  readonly framesPerCluster?: number;
  /** Bytes of each frame's filler payload, default 1000. */
  readonly frameBytes?: number;
}

export function makeMkv(options: MkvOptions = {}): Buffer {
  const clusters = options.clusters ?? 5;
  const frames = options.framesPerCluster ?? 10;
  const frameBytes = options.frameBytes ?? 1000;
  const header = element(0x1a45dfa3, uint(0x4286, 1), uint(0x42f7, 1), uint(0x42f2, 4), uint(0x42f3, 8), str(0x4282, 'matroska'), uint(0x4287, 4), uint(0x4285, 2));
  const info = element(0x1549a966, uint(0x2ad7b1, 1_000_000), str(0x4d80, 'face-stream-pipeline-tests'), str(0x5741, 'face-stream-pipeline-tests'));
  const video = element(0xe0, uint(0xb0, 640), uint(0xba, 480));
  const tracks = element(0x1654ae6b, element(0xae, uint(0xd7, 1), uint(0x73c5, 1), uint(0x83, 1), str(0x86, 'V_MPEG4/ISO/AVC'), video));
  const parts: Buffer[] = [info, tracks];
  for (let c = 0; c < clusters; c++) {
    const blocks: Buffer[] = [uint(0xe7, c * 1000)];
    for (let f = 0; f < frames; f++) {
      const payload = Buffer.alloc(frameBytes, (c * frames + f) % 251);
      // SimpleBlock: track 1, relative timecode (int16), flags (keyframe on the first frame)
      const blockHeader = Buffer.from([0x81, 0, 0, f === 0 ? 0x80 : 0x00]);
      blockHeader.writeInt16BE(f * 100, 1);
      blocks.push(element(0xa3, blockHeader, payload));
    }
    parts.push(element(0x1f43b675, ...blocks));
  }
  return Buffer.concat([header, element(0x18538067, ...parts)]);
}

/** How many Clusters (fragments) the bytes contain. */
export function countClusters(data: Buffer): number {
  let count = 0;
  for (let i = data.indexOf(CLUSTER_ID); i >= 0; i = data.indexOf(CLUSTER_ID, i + 4)) {
    count++;
  }
  return count;
}
