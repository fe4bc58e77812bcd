/**
 * The PutMedia acknowledgement stream parser (lib/cli/put-media.ts), at every split: JSON objects
 * back to back, cut anywhere across chunks, garbage in between.
 */
import { AckParser } from '../lib/cli/put-media';

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
