/**
 * Follows the top-level structure of a Matroska (MKV) byte stream as it is sent, without copying
 * it: every Cluster is a Kinesis Video Streams fragment, and its Timecode is the FragmentTimecode
 * that PutMedia acknowledges it with. Elements are skipped by their sizes (the frames inside a
 * Cluster are never looked at), so a byte pattern inside a frame cannot be mistaken for a Cluster.
 * Segments and Clusters are entered (their size may be unknown, as live muxers write them).
 *
 * It runs once per upload, mostly before V8 has optimised it, so it takes few steps: once a
 * Cluster of known size has given its Timecode, the rest of it (its frames) is skipped whole; an
 * element header that lies whole in the chunk is read in one step, with no allocation; only a
 * header or Timecode split across chunks is read byte by byte.
 */

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;
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
  /** Where the current Cluster ends (stream offset), while its Timecode is still to come; else -1. */
  private clusterEnd = -1;
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
          this.onFragment?.(this.timecode);
          // nothing else in the Cluster matters: its frames are skipped whole
          const left = this.clusterEnd - (this.offset + i);
          if (this.clusterEnd >= 0 && left > 0) {
            this.skip = left;
          }
          this.clusterEnd = -1;
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
        this.clusterEnd = size === undefined ? -1 : this.offset + i + size;
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
      this.skip = size;
    }
    this.offset += n;
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
