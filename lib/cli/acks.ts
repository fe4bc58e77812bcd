/**
 * The PutMedia acknowledgement stream: JSON objects (BUFFERING, RECEIVED, PERSISTED, ERROR, IDLE)
 * that may arrive split across chunks or mixed with garbage, and what each error id means.
 */

export interface Ack {
  readonly EventType: 'BUFFERING' | 'RECEIVED' | 'PERSISTED' | 'ERROR' | 'IDLE';
  readonly FragmentTimecode?: number;
  readonly FragmentNumber?: string;
  readonly ErrorId?: number;
  readonly ErrorCode?: string;
}

/** The KVS PutMedia acknowledgement error ids, in words. */
export const ACK_ERRORS: Record<number, [string, string]> = {
  4000: ['STREAM_READ_ERROR', 'Kinesis Video Streams could not read the data you sent.'],
  4001: ['MAX_FRAGMENT_SIZE_REACHED', 'A fragment is larger than the 50 MB limit.'],
  4002: ['MAX_FRAGMENT_DURATION_REACHED', 'A fragment is longer than the allowed duration.'],
  4003: ['MAX_CONNECTION_DURATION_REACHED', 'The connection lasted longer than the limit; start a new PutMedia session.'],
  4004: ['FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS', 'A fragment timecode is lower than the previous one.'],
  4005: ['MORE_THAN_ALLOWED_TRACKS_FOUND', 'The MKV has more tracks than allowed.'],
  4006: ['INVALID_MKV_DATA', 'The data is not valid MKV.'],
  4007: ['INVALID_PRODUCER_TIMESTAMP', 'The producer timestamp is not valid.'],
  4008: ['STREAM_NOT_ACTIVE', 'The stream is not active (it may be deleted or being created).'],
  4009: ['FRAGMENT_METADATA_LIMIT_REACHED', 'A fragment has too many metadata entries.'],
  4010: ['TRACK_NUMBER_MISMATCH', 'A frame names a track number that is not in the MKV header.'],
  4011: ['FRAMES_MISSING_FOR_TRACK', 'A fragment has no frame for one of the tracks.'],
  4500: ['KMS_KEY_ACCESS_DENIED', 'Kinesis Video Streams may not use the stream\'s KMS key.'],
  4501: ['KMS_KEY_DISABLED', 'The stream\'s KMS key is disabled.'],
  4502: ['KMS_KEY_VALIDATION_ERROR', 'The stream\'s KMS key could not be validated.'],
  4503: ['KMS_KEY_UNAVAILABLE', 'The stream\'s KMS key is unavailable; try again.'],
  4504: ['KMS_KEY_INVALID_USAGE', 'The stream\'s KMS key is not a symmetric encryption key.'],
  4505: ['KMS_KEY_INVALID_STATE', 'The stream\'s KMS key is not in a usable state.'],
  4506: ['KMS_KEY_NOT_FOUND', 'The stream\'s KMS key was not found.'],
  5000: ['INTERNAL_ERROR', 'Kinesis Video Streams had an internal error; try again.'],
  5001: ['ARCHIVAL_ERROR', 'Kinesis Video Streams could not store the fragment; try again.'],
};

export function describeAck(ack: Ack): string {
  const [name, sentence] = ACK_ERRORS[ack.ErrorId ?? -1] ?? [ack.ErrorCode ?? 'UNKNOWN_ERROR', 'Kinesis Video Streams reported an error.'];
  const hint = ACK_ERRORS[ack.ErrorId ?? -1] ? '' : '\n(an error id this tool does not know: see the PutMedia page of the Kinesis Video Streams API reference)';
  return `ERROR ${ack.ErrorId ?? '?'} ${name}: ${sentence}${ack.FragmentTimecode !== undefined ? ` (fragment timecode ${ack.FragmentTimecode})` : ''}${hint}`;
}

const EVENT_TYPES = new Set(['BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR', 'IDLE']);
/** The longest acknowledgement accepted; a longer "object" is garbage. */
const MAX_ACK_CHARS = 64 * 1024;
export const cut = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

/** Outside an object: the next character that is not white space. */
const OUTSIDE = /[^ \n\r\t]/g;
/** Inside an object, outside its strings: the next brace or quote. */
const IN_OBJECT = /[{}"]/g;
/** Inside a string: the next quote or backslash. */
const IN_STRING = /["\\]/g;

/**
 * Where `oneChar` (a global pattern matching one character) next matches in `text` from `from`, or
 * `text.length`. test() rather than exec(): exec() allocates a match array each time, which on
 * this path was the upload's largest JavaScript allocation after Node's own.
 */
function nextOf(oneChar: RegExp, text: string, from: number): number {
  oneChar.lastIndex = from;
  return oneChar.test(text) ? oneChar.lastIndex - 1 : text.length;
}

/**
 * Splits the acknowledgement stream (JSON objects, one after the other, split anywhere across
 * chunks) as it arrives. What is not an acknowledgement is reported in `malformed` and skipped: the
 * parser resynchronises at the next `{` that starts an object outside any other.
 *
 * It runs on every chunk of the response while the body is being sent, mostly before V8 has
 * optimised it, so it jumps (with a regular expression) from one character that matters to the
 * next, rather than stepping through every character.
 */
export class AckParser {
  private buffer = '';
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private garbage = '';

  public push(text: string): { acks: Ack[]; malformed: string[] } {
    const acks: Ack[] = [];
    const malformed: string[] = [];
    this.buffer += text;
    const b = this.buffer;
    const n = b.length;
    let start = this.depth > 0 ? 0 : -1;
    let i = this.pos;
    while (i < n) {
      if (this.depth === 0) {
        const j = nextOf(OUTSIDE, b, i);
        if (j > i && this.garbage) {
          this.flushGarbage(malformed); // white space ends the garbage before it
        }
        if (j === n) {
          break;
        }
        if (b.charCodeAt(j) === 0x7b /* { */) {
          this.flushGarbage(malformed);
          this.depth = 1;
          start = j;
        } else if (this.garbage.length < 200) {
          this.garbage += b[j];
        }
        i = j + 1;
        continue;
      }
      // inside an object: the next character that changes the state (every other one only counts
      // towards MAX_ACK_CHARS)
      let j: number;
      if (this.inString && this.escaped) {
        j = i;
      } else {
        j = nextOf(this.inString ? IN_STRING : IN_OBJECT, b, i);
      }
      const limit = start + MAX_ACK_CHARS;
      if (limit < j && limit < n) {
        // an ordinary character past the limit: too long to be an acknowledgement
        malformed.push(this.tooLong(b, start));
        start = -1;
        i = limit + 1;
        continue;
      }
      if (j === n) {
        break;
      }
      const c = b.charCodeAt(j);
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
        } else if (c === 0x5c /* \ */) {
          this.escaped = true;
        } else {
          this.inString = false; // a "
        }
      } else if (c === 0x22 /* " */) {
        this.inString = true;
      } else if (c === 0x7b /* { */) {
        this.depth++;
      } else if (--this.depth === 0) {
        // the } that closes the object
        const json = b.slice(start, j + 1);
        start = -1;
        const ack = toAck(json);
        if (ack) {
          acks.push(ack);
        } else {
          malformed.push(json);
        }
        i = j + 1;
        continue;
      }
      if (j >= limit) {
        malformed.push(this.tooLong(b, start));
        start = -1;
      }
      i = j + 1;
    }
    // keep only an object still open
    this.buffer = start >= 0 ? b.slice(start) : '';
    this.pos = this.buffer.length;
    return { acks, malformed };
  }

  /** An object longer than MAX_ACK_CHARS: reported, and the parser starts again outside any object. */
  private tooLong(b: string, start: number): string {
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    return `${b.slice(start, start + 60)}... (more than ${MAX_ACK_CHARS} characters)`;
  }

  /** At the end of the response: what was left unfinished. */
  public end(): string[] {
    const malformed: string[] = [];
    this.flushGarbage(malformed);
    if (this.depth > 0) {
      malformed.push(`${this.buffer.slice(0, 60)} (the response ended inside it)`);
    }
    return malformed;
  }

  private flushGarbage(malformed: string[]): void {
    if (this.garbage) {
      malformed.push(this.garbage);
      this.garbage = '';
    }
  }
}

function toAck(json: string): Ack | undefined {
  let value: any;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || !EVENT_TYPES.has(value.EventType)) {
    return undefined;
  }
  if (value.FragmentTimecode !== undefined && typeof value.FragmentTimecode !== 'number') {
    return undefined;
  }
  return value as Ack;
}

