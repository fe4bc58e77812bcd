/**
 * The PutMedia acknowledgement stream parser (lib/cli/put-media.ts), at every split: JSON objects
 * back to back, cut anywhere across chunks, garbage in between.
 */
import { Ack, AckParser } from '../lib/cli/put-media';

const stream = '{"EventType":"BUFFERING","FragmentTimecode":0}{"EventType":"RECEIVED","FragmentTimecode":0,"FragmentNumber":"91"}'
  + ' }{"EventType":"PERSISTED","FragmentTimecode":0,"FragmentNumber":"91","Note":"a \\"}\\" in a string"}\n'
  + 'garbage{"EventType":"PERSISTED","FragmentTimecode":}{"Hello":1}{"EventType":"ERROR","FragmentTimecode":1000,"ErrorId":4006}';

test.each(Array.from({ length: stream.length + 1 }, (_, i) => i))('split at %i: the same acks and malformed parts', (at) => {
  const parser = new AckParser();
  const a = parser.push(stream.slice(0, at));
  const b = parser.push(stream.slice(at));
  const acks = [...a.acks, ...b.acks];
  const malformed = [...a.malformed, ...b.malformed, ...parser.end()];
  expect(acks.map((ack) => `${ack.EventType} ${ack.FragmentTimecode}`)).toEqual(['BUFFERING 0', 'RECEIVED 0', 'PERSISTED 0', 'ERROR 1000']);
  expect(malformed).toEqual(['}', 'garbage', '{"EventType":"PERSISTED","FragmentTimecode":}', '{"Hello":1}']);
});

test('an object left open when the response ends is reported', () => {
  const parser = new AckParser();
  expect(parser.push('{"EventType":"PERSISTED"').acks).toEqual([]);
  expect(parser.end()).toEqual(['{"EventType":"PERSISTED" (the response ended inside it)']);
});

/**
 * The reference: the stream read one character at a time (the parser jumps between the characters
 * that matter; it must split, report and resynchronise exactly as this does).
 */
function referenceParse(stream: string, maxChars: number): { acks: string[]; malformed: string[] } {
  const acks: string[] = [];
  const malformed: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let garbage = '';
  let start = -1;
  const flush = () => {
    if (garbage) {
      malformed.push(garbage);
      garbage = '';
    }
  };
  for (let i = 0; i < stream.length; i++) {
    const c = stream[i];
    if (depth === 0) {
      if (c === '{') {
        flush();
        depth = 1;
        start = i;
      } else if (!' \n\r\t'.includes(c)) {
        if (garbage.length < 200) {
          garbage += c;
        }
      } else {
        flush();
      }
      continue;
    }
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c === '\\') {
        escaped = true;
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      depth++;
    } else if (c === '}' && --depth === 0) {
      const json = stream.slice(start, i + 1);
      let ack = false;
      try {
        const value = JSON.parse(json);
        ack = typeof value === 'object' && value !== null && ['BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR', 'IDLE'].includes(value.EventType)
          && (value.FragmentTimecode === undefined || typeof value.FragmentTimecode === 'number');
      } catch {
        // not JSON
      }
      (ack ? acks : malformed).push(json);
      continue;
    }
    if (i - start >= maxChars) {
      malformed.push(`${stream.slice(start, start + 60)}... (more than ${maxChars} characters)`);
      depth = 0;
      inString = false;
      escaped = false;
    }
  }
  flush();
  if (depth > 0) {
    malformed.push(`${stream.slice(start, start + 60)} (the response ended inside it)`);
  }
  return { acks, malformed };
}

/** A deterministic pseudo-random generator (a linear congruential one), so failures reproduce. */
/** The stream pushed to a new parser in pieces (`cut` gives where each piece ends), then ended. */
function parseInPieces(stream: string, cut: (at: number) => number): { acks: Ack[]; malformed: string[] } {
  const parser = new AckParser();
  const acks: Ack[] = [];
  const malformed: string[] = [];
  for (let at = 0; at < stream.length;) {
    const next = Math.min(stream.length, cut(at));
    const out = parser.push(stream.slice(at, next));
    acks.push(...out.acks);
    malformed.push(...out.malformed);
    at = next;
  }
  malformed.push(...parser.end());
  return { acks, malformed };
}

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

test.each(Array.from({ length: 40 }, (_, seed) => seed))('random streams, cut at random places, parse as the reference does (seed %i)', (seed) => {
  const rnd = random(seed + 1);
  const pick = <T>(items: T[]) => items[Math.floor(rnd() * items.length)];
  const pieces = [
    () => JSON.stringify({ EventType: pick(['BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR', 'IDLE']), FragmentTimecode: Math.floor(rnd() * 1e6), FragmentNumber: '9134' }),
    () => JSON.stringify({ EventType: 'PERSISTED', FragmentTimecode: 5, Note: pick(['a "}" here', 'back\\slash', '{{{', '\\"}', 'é ü 😀']) }),
    () => pick([' ', '\n', '\r\n', '\t', '  ']),
    () => pick(['garbage', '}', ']', 'x'.repeat(250), '{"EventType":"PERSISTED","FragmentTimecode":}', '{"Hello":1}', '{"a":{"b":{}}}', '"', '\\']),
    () => `{"EventType":"BUFFERING","FragmentTimecode":"7"}`,
  ];
  let stream = '';
  const n = 5 + Math.floor(rnd() * 40);
  for (let k = 0; k < n; k++) {
    stream += pick(pieces)();
  }
  if (rnd() < 0.3) {
    stream += '{"EventType":"PERSISTED"'; // left open
  }
  const expected = referenceParse(stream, 64 * 1024);
  const parsed = parseInPieces(stream, (at) => at + 1 + Math.floor(rnd() * 40));
  const acks = parsed.acks.map((a) => JSON.stringify(a));
  const malformed = parsed.malformed;
  expect({ acks, malformed }).toEqual({ acks: expected.acks.map((a) => JSON.stringify(JSON.parse(a))), malformed: expected.malformed });
});

test('an object longer than 64 KiB is reported and the acknowledgements after it still count', () => {
  const long = `{"EventType":"PERSISTED","FragmentTimecode":1,"Pad":"${'x'.repeat(70_000)}"}`;
  const stream = `${long}{"EventType":"PERSISTED","FragmentTimecode":2}`;
  const expected = referenceParse(stream, 64 * 1024);
  for (const size of [1000, 4096, 65536, stream.length]) {
    const parsed = parseInPieces(stream, (at) => at + size);
    const acks = parsed.acks.map((a) => a.FragmentTimecode!);
    const malformed = parsed.malformed;
    expect({ size, acks, malformed }).toEqual({ size, acks: [2], malformed: expected.malformed });
  }
  expect(expected.malformed[0]).toMatch(/^\{"EventType":"PERSISTED".*\.\.\. \(more than 65536 characters\)$/);
});

test('after an object too long, the parser starts again at the very next character', () => {
  // the 65537th character of the object is ordinary, the next one opens an acknowledgement
  const head = '{"Pad":"';
  const stream = `${head}${'x'.repeat(64 * 1024 - head.length)}y{"EventType":"PERSISTED","FragmentTimecode":3}"}`;
  const expected = referenceParse(stream, 64 * 1024);
  expect(expected.acks).toEqual(['{"EventType":"PERSISTED","FragmentTimecode":3}']);
  for (const size of [1, 7, 4096, stream.length]) {
    const parsed = parseInPieces(stream, (at) => at + size);
    const acks = parsed.acks.map((a) => JSON.stringify(a));
    const malformed = parsed.malformed;
    expect({ size, acks, malformed }).toEqual({ size, ...expected });
  }
});
