/**
 * Follows the top-level structure of a Matroska (MKV) byte stream as it is sent, without copying
 * it: every Cluster is a Kinesis Video Streams fragment, and its Timecode is the FragmentTimecode
 * that PutMedia acknowledges it with. Elements are skipped by their sizes (of a frame only its
 * block header is read: track, relative timecode, flags), so a byte pattern inside a frame cannot
 * be mistaken for a Cluster. Segments, Clusters and BlockGroups are entered (a size may be
 * unknown, as live muxers write them).
 *
 * It also checks the two rules of a fragment that the service's acknowledgements do not report
 * (Rekognition Video: "the first frame of a fragment must be an I-frame"; a fragment is a
 * self-contained sequence of frames): the Cluster's first frame is a keyframe, and no frame has a
 * timecode before its Cluster's (the leading B-frames of an open GOP). `invalid` says which was
 * broken first. B-frames of closed GOPs (ffmpeg's and x264's default) break neither.
 *
 * It runs once per upload, mostly before V8 has optimised it, so it takes few steps: an element
 * header that lies whole in the chunk is read in one step, with no allocation; only a header, a
 * Timecode or a block header split across chunks is read byte by byte.
 */

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const REFERENCE_BLOCK = 0xfb;
/** The longest element header: a 4-byte id and an 8-byte size. */
const MAX_HEADER = 12;

/** The id of the EBML header, the element every Matroska (MKV) byte stream starts with. */
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];

/**
 * Why the input whose first bytes are `head` is not an MKV (undefined if it may be one): it must
 * start with the EBML header's id. With `whole`, `head` is all the input has there (a shorter one
 * is not an MKV); without, it is the first chunk of a stream, whose next chunk may complete the id.
 */
export function notMkv(head: Uint8Array, whole = true): string | undefined {
  if (head.length === 0) {
    return 'the input is empty: put-media sends an MKV (Matroska) file';
  }
  for (let k = 0; k < EBML_MAGIC.length; k++) {
    if (k >= head.length ? whole : head[k] !== EBML_MAGIC[k]) {
      const shown = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      return `the input is not an MKV (Matroska) file: it starts with bytes ${shown}, not the EBML header 1a 45 df a3`;
    }
  }
  return undefined;
}

export class MkvScanner {
  /** Fragments (Clusters) seen, in order. */
  public fragments = 0;
  /** Why the scanner stopped following the structure, if it did. */
  public lost?: string;
  /** The first fragment rule the stream broke (see above), if any. */
  public invalid?: string;
  /** Called with each Cluster's Timecode, once it has been read. */
  public onFragment?: (timecode: number) => void;
  private skip = 0;
  /** A header split across chunks, as far as it has come. */
  private readonly header = Buffer.alloc(MAX_HEADER);
  private headerLength = 0;
  /** Bytes still to read of a Cluster Timecode's value, and the value so far. */
  private timecodeBytes = 0;
  private timecode = 0;
  /** Bytes pushed before the current chunk. */
  private offset = 0;
  /** The current Cluster's Timecode, and how many frames of it were seen. */
  private clusterTimecode = 0;
  private clusterFrames = 0;
  /** A block header being read: its bytes so far, how many it takes, and the block's size. */
  private readonly blockHead = Buffer.alloc(11);
  private blockHeadLength = 0;
  private blockHeadNeed = 0;
  private blockSize = 0;
  /** The block is a SimpleBlock (its flags say whether it is a keyframe), not a BlockGroup's Block. */
  private simpleBlock = false;
  /** Where the BlockGroup holding its Cluster's first frame ends (stream offset); else -1. */
  private firstGroupEnd = -1;
  /** The element header just read (set by readHeader). */
  private id = 0;
  private size: number | undefined = 0;

  public push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n && this.lost === undefined) {
      if (this.skip > 0) {
        const step = this.skip < n - i ? this.skip : n - i;
        this.skip -= step;
        i += step;
        continue;
      }
      if (this.timecodeBytes > 0) {
        this.timecode = this.timecode * 256 + chunk[i++];
        if (--this.timecodeBytes === 0) {
          this.clusterTimecode = this.timecode;
          this.onFragment?.(this.timecode);
        }
        continue;
      }
      if (this.blockHeadNeed > 0) {
        this.blockHead[this.blockHeadLength++] = chunk[i++];
        if (this.blockHeadLength === 1) {
          // the track number's width decides the header's length
          const width = vintLength(this.blockHead[0]);
          if (width === 0 || width + 3 > this.blockSize) {
            // not a block header: skip the frame unchecked
            this.blockHeadNeed = 0;
            this.skip = this.blockSize - 1;
            continue;
          }
          this.blockHeadNeed = width + 3;
        }
        if (this.blockHeadLength >= this.blockHeadNeed) {
          this.onBlock();
        }
        continue;
      }
      if (this.headerLength === 0 && n - i >= MAX_HEADER) {
        // the whole header is in this chunk
        const length = this.readHeader(chunk, i, MAX_HEADER);
        if (length <= 0) {
          break; // lost
        }
        i += length;
      } else {
        // a header split across chunks: byte by byte
        this.header[this.headerLength++] = chunk[i++];
        const length = this.readHeader(this.header, 0, this.headerLength);
        if (length < 0) {
          break; // lost
        }
        if (length === 0) {
          continue; // not complete yet
        }
        this.headerLength = 0;
      }
      const id = this.id;
      const size = this.size;
      if (id === SEGMENT) {
        continue;
      }
      if (id === CLUSTER) {
        this.fragments++;
        this.clusterFrames = 0;
        this.firstGroupEnd = -1;
        continue;
      }
      if (size === undefined) {
        this.lose(`element 0x${id.toString(16)} of unknown size`);
        break;
      }
      if (id === TIMECODE && size > 0 && size <= 6) {
        this.timecodeBytes = size;
        this.timecode = 0;
        continue;
      }
      if (id === BLOCK_GROUP) {
        if (this.clusterFrames === 0) {
          this.firstGroupEnd = this.offset + i + size;
        }
        continue; // entered: its Block and ReferenceBlock are read
      }
      if ((id === SIMPLE_BLOCK || id === BLOCK) && size >= 4) {
        this.simpleBlock = id === SIMPLE_BLOCK;
        this.blockSize = size;
        this.blockHeadLength = 0;
        this.blockHeadNeed = 1;
        continue;
      }
      if (id === REFERENCE_BLOCK && this.offset + i <= this.firstGroupEnd) {
        // the Cluster's first frame, in a BlockGroup, refers to another frame: not a keyframe
        this.invalidate(`the fragment at timecode ${this.clusterTimecode} does not start with a keyframe`);
      }
      this.skip = size;
    }
    this.offset += n;
  }

  /** A block header is read: check it, then skip the frame's data. */
  private onBlock(): void {
    const head = this.blockHead;
    const width = this.blockHeadNeed - 3;
    this.blockHeadNeed = 0;
    this.skip = this.blockSize - this.blockHeadLength;
    const relative = (((head[width] << 8) | head[width + 1]) << 16) >> 16;
    const flags = head[width + 2];
    if (this.clusterFrames++ === 0 && this.simpleBlock && (flags & 0x80) === 0) {
      this.invalidate(`the fragment at timecode ${this.clusterTimecode} does not start with a keyframe`);
    }
    if (relative < 0) {
      this.invalidate(`the fragment at timecode ${this.clusterTimecode} has a frame at timecode ${this.clusterTimecode + relative}, before the fragment's start (B-frames of an open GOP)`);
    }
  }

  private invalidate(reason: string): void {
    this.invalid ??= reason;
  }

  /**
   * Reads the element header at `bytes[at]` (`available` bytes there) into `id` and `size`
   * (undefined: unknown). Returns its length, 0 if more bytes are needed, -1 if the bytes cannot
   * be an element header (the scanner is then lost).
   */
  private readHeader(bytes: Buffer, at: number, available: number): number {
    const first = bytes[at];
    const idLength = vintLength(first);
    if (idLength === 0 || idLength > 4) {
      this.lose(`byte 0x${first.toString(16)} cannot start an element id`);
      return -1;
    }
    if (available <= idLength) {
      return 0;
    }
    const sizeFirst = bytes[at + idLength];
    const sizeLength = vintLength(sizeFirst);
    if (sizeLength === 0) {
      this.lose(`byte 0x${sizeFirst.toString(16)} cannot start an element size`);
      return -1;
    }
    if (available < idLength + sizeLength) {
      return 0;
    }
    let id = first;
    for (let k = 1; k < idLength; k++) {
      id = id * 256 + bytes[at + k];
    }
    const mask = 0xff >> sizeLength;
    let size = sizeFirst & mask;
    let allOnes = size === mask;
    for (let k = 1; k < sizeLength; k++) {
      const b = bytes[at + idLength + k];
      size = size * 256 + b;
      allOnes = allOnes && b === 0xff;
    }
    this.id = id;
    this.size = allOnes ? undefined : size;
    return idLength + sizeLength;
  }

  private lose(reason: string): void {
    this.lost = `${reason} near byte ${this.offset}`;
    this.headerLength = 0;
  }
}

/** The length of an EBML variable-size integer from its first byte (0: not a valid first byte). */
function vintLength(first: number): number {
  return first === 0 ? 0 : Math.clz32(first) - 23;
}
