/**
 * Follows the top-level structure of a Matroska (MKV) byte stream as it is sent, without copying
 * it: every Cluster is a Kinesis Video Streams fragment, and its Timecode is the FragmentTimecode
 * that PutMedia acknowledges it with. Elements are skipped by their sizes (the frames inside a
 * Cluster are never looked at), so a byte pattern inside a frame cannot be mistaken for a Cluster.
 * Segments and Clusters are entered (their size may be unknown, as live muxers write them).
 */

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;

export class MkvScanner {
  /** Fragments (Clusters) seen, in order. */
  public fragments = 0;
  /** Why the scanner stopped following the structure, if it did. */
  public lost?: string;
  /** Called with each Cluster's Timecode, once it has been read. */
  public onFragment?: (timecode: number) => void;
  private skip = 0;
  private readonly header = Buffer.alloc(16);
  private headerLength = 0;
  /** Bytes still to read of a Cluster Timecode's value, and the value so far. */
  private timecodeBytes = 0;
  private timecode = 0;
  private offset = 0;

  public push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n && this.lost === undefined) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, n - i);
        this.skip -= step;
        i += step;
        continue;
      }
      if (this.timecodeBytes > 0) {
        this.timecode = this.timecode * 256 + chunk[i++];
        if (--this.timecodeBytes === 0) {
          this.onFragment?.(this.timecode);
        }
        continue;
      }
      // an element header: an id (1-4 bytes) and a size (1-8 bytes), perhaps split across chunks
      this.header[this.headerLength++] = chunk[i++];
      const parsed = this.parseHeader();
      if (parsed === undefined) {
        continue;
      }
      this.headerLength = 0;
      const [id, size] = parsed;
      if (id === SEGMENT) {
        continue;
      }
      if (id === CLUSTER) {
        this.fragments++;
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

  /** [id, size (undefined: unknown)] once the header is complete, else undefined. */
  private parseHeader(): [number, number | undefined] | undefined {
    const h = this.header;
    const idLength = vintLength(h[0]);
    if (idLength === 0 || idLength > 4) {
      this.lose(`byte 0x${h[0].toString(16)} cannot start an element id`);
      return undefined;
    }
    if (this.headerLength <= idLength) {
      return undefined;
    }
    const sizeLength = vintLength(h[idLength]);
    if (sizeLength === 0) {
      this.lose(`byte 0x${h[idLength].toString(16)} cannot start an element size`);
      return undefined;
    }
    if (this.headerLength < idLength + sizeLength) {
      return undefined;
    }
    let id = 0;
    for (let k = 0; k < idLength; k++) {
      id = id * 256 + h[k];
    }
    let size = h[idLength] & (0xff >> sizeLength);
    let allOnes = size === 0xff >> sizeLength;
    for (let k = 1; k < sizeLength; k++) {
      size = size * 256 + h[idLength + k];
      allOnes = allOnes && h[idLength + k] === 0xff;
    }
    return [id, allOnes ? undefined : size];
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
