import {
  decodeRecord,
  isFaceSearchRecord,
  MAX_RECORD_BYTES,
  normaliseRecord,
  parseFaceRecord,
  RecordError,
  validateRecord,
  validateRecordPrecisely,
  videoStreamName,
} from '../lib/runtime/face-records/parser';
import { documentedRecord, recordWith, toData, VIDEO_STREAM_ARN } from './fixtures/face-records';

describe('the engine of a record', () => {
  test('a record the frame sampler wrote (Engine: frame-sampling) says so in its events; any other record is a stream processor\'s', () => {
    const sampled = { ...documentedRecord(), Engine: 'frame-sampling' };
    expect(parseFaceRecord(toData(sampled), 'yard')[0].engine).toBe('frame-sampling');
    expect(parseFaceRecord(toData({ ...documentedRecord(), Engine: 'something-else' }), 'yard')[0].engine).toBe('stream-processor');
  });
});

describe('snapshots (the frame sampler\'s Snapshot of a face)', () => {
  const snapshot = { Bucket: 'snapshots-bucket', FaceKey: 'snapshots/yard/2023-11-14/1700000000000-0-0123456789abcdef/face.jpg', FrameKey: 'snapshots/yard/2023-11-14/1700000000000-0-0123456789abcdef/frame.jpg' };

  test('a face\'s Snapshot is its event\'s snapshot; a face without one has none', () => {
    const record = recordWith([{ matches: ['alice'] }, { matches: [] }]);
    record.FaceSearchResponse[0].Snapshot = snapshot;
    const [first, second] = parseFaceRecord(toData(record), 'yard');
    expect(first.snapshot).toEqual({ bucket: snapshot.Bucket, faceKey: snapshot.FaceKey, frameKey: snapshot.FrameKey });
    expect('snapshot' in second).toBe(false);
  });

  test.each([
    ['not an object', 'face.jpg'],
    ['no FrameKey', { Bucket: 'b', FaceKey: 'k' }],
    ['an empty bucket name', { ...snapshot, Bucket: '' }],
    ['a bucket name longer than 63', { ...snapshot, Bucket: 'b'.repeat(64) }],
    ['a key longer than 1024', { ...snapshot, FaceKey: 'k'.repeat(1025) }],
    ['a number for a key', { ...snapshot, FrameKey: 7 }],
  ])('a Snapshot with %s is left out: the sighting is still an event (never dead-lettered for its pictures)', (_what, bad) => {
    const record = recordWith([{ matches: ['alice'] }]);
    record.FaceSearchResponse[0].Snapshot = bad;
    expect(isFaceSearchRecord(record)).toBe(true);
    const [event] = parseFaceRecord(toData(record), 'yard');
    expect(event.match?.externalImageId).toBe('alice');
    expect('snapshot' in event).toBe(false);
  });
});

describe('the documented example record', () => {
  test('parses into one Face Matched event with the documented values in the event schema', () => {
    const [event, ...rest] = parseFaceRecord(toData(documentedRecord()), 'front-door');
    expect(rest).toEqual([]);
    expect(event).toEqual({
      version: '1',
      id: `${VIDEO_STREAM_ARN}|91343852333289682796718532614445757584843717598|1510552593.193|2|0`,
      engine: 'stream-processor',
      camera: 'front-door',
      videoStreamArn: VIDEO_STREAM_ARN,
      fragmentNumber: '91343852333289682796718532614445757584843717598',
      // producer timestamp 1510552593.193 + frame offset 2 s
      frameTime: '2017-11-13T05:56:35.193Z',
      serverTime: '2017-11-13T05:56:33.455Z',
      frameOffsetInSeconds: 2,
      processorStatus: 'RUNNING',
      faceIndex: 0,
      facesInFrame: 1,
      face: {
        boundingBox: { width: 0.05625, height: 0.075, left: 0.428125, top: 0.40833333 },
        confidence: 99.975174,
        pose: { pitch: 2.9691637, roll: -6.8904796, yaw: 23.84388 },
        quality: { brightness: 40.592964, sharpness: 96.09616 },
      },
      matched: true,
      match: {
        faceId: 'ed1b560f-d6af-5158-989a-ff586c931545',
        externalImageId: 'matchedImage.jpeg',
        imageId: '70e09693-2114-57e1-807c-50b6d61fa4dc',
        similarity: 88.86396,
        confidence: 99.999201,
      },
      matches: [
        {
          faceId: 'ed1b560f-d6af-5158-989a-ff586c931545',
          externalImageId: 'matchedImage.jpeg',
          imageId: '70e09693-2114-57e1-807c-50b6d61fa4dc',
          similarity: 88.86396,
          confidence: 99.999201,
        },
      ],
    });
  });

  test('without a camera name, the camera is the video stream name', () => {
    expect(parseFaceRecord(toData(documentedRecord()))[0].camera).toBe('front-door');
    expect(videoStreamName(VIDEO_STREAM_ARN)).toBe('front-door');
  });
});

describe('faces and matches', () => {
  test('a frame with no face gives no event', () => {
    expect(parseFaceRecord(toData(recordWith([])), 'cam')).toEqual([]);
  });

  test('an unknown face gives one Face Not Matched event without a match', () => {
    const [event] = parseFaceRecord(toData(recordWith([{ matches: [] }])), 'cam');
    expect(event.matched).toBe(false);
    expect(event.match).toBeUndefined();
    expect(event.matches).toEqual([]);
    expect(JSON.parse(JSON.stringify(event))).not.toHaveProperty('match');
  });

  test('many faces with many matches: one event per face, matches best first', () => {
    const record = recordWith([{ matches: ['alice', 'alice-2'] }, { matches: [] }, { matches: ['bob'] }]);
    // shuffle the first face's matches so that the best is not first
    record.FaceSearchResponse[0].MatchedFaces.reverse();
    const events = parseFaceRecord(toData(record), 'lobby');
    expect(events.map((e) => [e.faceIndex, e.facesInFrame, e.matched, e.match?.externalImageId])).toEqual([
      [0, 3, true, 'alice'],
      [1, 3, false, undefined],
      [2, 3, true, 'bob'],
    ]);
    expect(events[0].matches.map((m) => m.similarity)).toEqual([99, 94]);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });

  test('optional fields may be absent and unknown extra fields are tolerated', () => {
    const record = documentedRecord();
    delete record.FaceSearchResponse[0].DetectedFace.Landmarks;
    delete record.FaceSearchResponse[0].DetectedFace.Pose;
    delete record.FaceSearchResponse[0].DetectedFace.Quality;
    const face = record.FaceSearchResponse[0].MatchedFaces[0].Face;
    delete face.ExternalImageId;
    delete face.ImageId;
    delete face.BoundingBox;
    delete face.Confidence;
    record.SomethingNew = { added: 'by the service' };
    record.FaceSearchResponse[0].DetectedFace.Emotions = [];
    const [event] = parseFaceRecord(toData(record), 'cam');
    expect(event.face).toEqual({ boundingBox: expect.any(Object), confidence: 99.975174 });
    expect(event.match).toEqual({ faceId: 'ed1b560f-d6af-5158-989a-ff586c931545', similarity: 88.86396 });
  });

  test('a face at the frame edge may have a negative Left or Top', () => {
    const record = documentedRecord();
    record.FaceSearchResponse[0].DetectedFace.BoundingBox.Left = -0.02;
    expect(parseFaceRecord(toData(record), 'cam')[0].face.boundingBox.left).toBe(-0.02);
  });

  test('normaliseRecord works on an already validated record', () => {
    const record = validateRecord(documentedRecord());
    expect(normaliseRecord(record, 'x')[0].camera).toBe('x');
  });
});

describe('malformed records are rejected with the path and what was expected', () => {
  const mutate = (change: (r: any) => void) => {
    const r = documentedRecord();
    change(r);
    return toData(r);
  };
  const cases: Array<[string, unknown, string]> = [
    ['not base64', 'this is not base64!', '(data): expected base64 text, got characters or a length that base64 does not allow'],
    ['base64 with a bad length', 'abc', '(data): expected base64 text, got characters or a length that base64 does not allow'],
    ['not a string', 42, '(data): expected base64 text, got 42'],
    ['missing data', undefined, '(data): expected base64 text, got nothing'],
    ['not JSON', toData('hello, world'), '(data): expected JSON, got "hello, world"'],
    ['JSON but not an object', toData('[1,2,3]'), '(record): expected an object, got [1,2,3]'],
    ['JSON null', toData('null'), '(record): expected an object, got null'],
    ['missing InputInformation', mutate((r) => delete r.InputInformation), 'InputInformation: expected an object, got nothing'],
    ['missing KinesisVideo', mutate((r) => (r.InputInformation = {})), 'InputInformation.KinesisVideo: expected an object, got nothing'],
    ['empty StreamArn', mutate((r) => (r.InputInformation.KinesisVideo.StreamArn = '')), 'InputInformation.KinesisVideo.StreamArn: expected a non-empty string, got ""'],
    ['numeric FragmentNumber', mutate((r) => (r.InputInformation.KinesisVideo.FragmentNumber = 123)), 'InputInformation.KinesisVideo.FragmentNumber: expected a non-empty string, got 123'],
    ['timestamp as a string', mutate((r) => (r.InputInformation.KinesisVideo.ProducerTimestamp = '1510552593')), 'InputInformation.KinesisVideo.ProducerTimestamp: expected a number 0-100000000000, got "1510552593"'],
    ['timestamp in milliseconds', mutate((r) => (r.InputInformation.KinesisVideo.ServerTimestamp = 1510552593455000)), 'InputInformation.KinesisVideo.ServerTimestamp: expected a number 0-100000000000, got 1510552593455000'],
    ['negative frame offset', mutate((r) => (r.InputInformation.KinesisVideo.FrameOffsetInSeconds = -1)), 'InputInformation.KinesisVideo.FrameOffsetInSeconds: expected a number 0-86400, got -1'],
    ['missing processor status', mutate((r) => (r.StreamProcessorInformation = {})), 'StreamProcessorInformation.Status: expected a non-empty string, got nothing'],
    ['FaceSearchResponse not an array', mutate((r) => (r.FaceSearchResponse = {})), 'FaceSearchResponse: expected an array, got {}'],
    ['missing DetectedFace', mutate((r) => delete r.FaceSearchResponse[0].DetectedFace), 'FaceSearchResponse[0].DetectedFace: expected an object, got nothing'],
    ['bounding box width above 1', mutate((r) => (r.FaceSearchResponse[0].DetectedFace.BoundingBox.Width = 1.5)), 'FaceSearchResponse[0].DetectedFace.BoundingBox.Width: expected a number 0-1, got 1.5'],
    ['NaN-like Left', mutate((r) => (r.FaceSearchResponse[0].DetectedFace.BoundingBox.Left = null)), 'FaceSearchResponse[0].DetectedFace.BoundingBox.Left: expected a finite number, got null'],
    ['confidence above 100', mutate((r) => (r.FaceSearchResponse[0].DetectedFace.Confidence = 100.5)), 'FaceSearchResponse[0].DetectedFace.Confidence: expected a number 0-100, got 100.5'],
    ['landmark without a type', mutate((r) => delete r.FaceSearchResponse[0].DetectedFace.Landmarks[3].Type), 'FaceSearchResponse[0].DetectedFace.Landmarks[3].Type: expected a non-empty string, got nothing'],
    ['pose out of range', mutate((r) => (r.FaceSearchResponse[0].DetectedFace.Pose.Yaw = 270)), 'FaceSearchResponse[0].DetectedFace.Pose.Yaw: expected a number -180-180, got 270'],
    ['quality as text', mutate((r) => (r.FaceSearchResponse[0].DetectedFace.Quality.Sharpness = 'sharp')), 'FaceSearchResponse[0].DetectedFace.Quality.Sharpness: expected a number 0-100, got "sharp"'],
    ['missing MatchedFaces', mutate((r) => delete r.FaceSearchResponse[0].MatchedFaces), 'FaceSearchResponse[0].MatchedFaces: expected an array, got nothing'],
    [
      'similarity as a word, in the third face',
      toData(
        (() => {
          const r = recordWith([{ matches: ['a'] }, { matches: [] }, { matches: ['c'] }]);
          r.FaceSearchResponse[2].MatchedFaces[0].Similarity = 'high';
          return r;
        })(),
      ),
      'FaceSearchResponse[2].MatchedFaces[0].Similarity: expected a number 0-100, got "high"',
    ],
    ['missing FaceId', mutate((r) => delete r.FaceSearchResponse[0].MatchedFaces[0].Face.FaceId), 'FaceSearchResponse[0].MatchedFaces[0].Face.FaceId: expected a non-empty string, got nothing'],
    ['numeric ExternalImageId', mutate((r) => (r.FaceSearchResponse[0].MatchedFaces[0].Face.ExternalImageId = 7)), 'FaceSearchResponse[0].MatchedFaces[0].Face.ExternalImageId: expected a non-empty string, got 7'],
    ['a match without Face', mutate((r) => delete r.FaceSearchResponse[0].MatchedFaces[0].Face), 'FaceSearchResponse[0].MatchedFaces[0].Face: expected an object, got nothing'],
  ];

  test.each(cases)('%s', (_name, data, message) => {
    let error: unknown;
    try {
      parseFaceRecord(data);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RecordError);
    expect((error as Error).message).toContain(message);
  });

  test('a huge record (over the 1 MiB Kinesis record limit) is rejected before parsing', () => {
    const huge = toData({ padding: 'x'.repeat(MAX_RECORD_BYTES + 10) });
    expect(() => decodeRecord(huge)).toThrow(`(data): expected at most ${MAX_RECORD_BYTES} bytes, got ${MAX_RECORD_BYTES + 24}`);
  });

  test('a large but legal record with 100 faces parses', () => {
    const record = recordWith(Array.from({ length: 100 }, (_, i) => ({ matches: [`person-${i}`] })));
    expect(parseFaceRecord(toData(record), 'cam')).toHaveLength(100);
  });

  test('long values are shortened in messages', () => {
    const r = documentedRecord();
    r.FaceSearchResponse[0].DetectedFace.Confidence = 'x'.repeat(500);
    expect(() => parseFaceRecord(toData(r))).toThrow(/Confidence: expected a number 0-100, got "x{36}\.\.\.$/);
  });
});

describe('the fast path is exactly as strict as the path-building validator', () => {
  type Path = Array<string | number>;
  /** Every field and array element of a value, as paths from its root. */
  const pathsOf = (value: unknown, at: Path = []): Path[] => {
    if (typeof value !== 'object' || value === null) {
      return [];
    }
    const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    return keys.flatMap((key) => [[...at, key], ...pathsOf((value as any)[key], [...at, key])]);
  };
  const REMOVE = Symbol('remove');
  const replacements: unknown[] = [REMOVE, undefined, null, '', 'text', '1', 0, -0.001, -0.5, -1, 0.5, 1, 1.001, 1.5, 99.9, 100, 100.5, -180, 180, -180.5, 180.5, 270, -270, 86400, 86401, 1e11, 1e11 + 1, NaN, Infinity, -Infinity, true, [], [1], {}, { Type: 'nose' }];
  const mutated = (record: unknown, path: Path, replacement: unknown): unknown => {
    const copy = structuredClone(record) as any;
    let parent = copy;
    for (const key of path.slice(0, -1)) {
      parent = parent[key];
    }
    const last = path[path.length - 1];
    if (replacement !== REMOVE) {
      parent[last] = replacement;
    } else if (Array.isArray(parent)) {
      parent.splice(last as number, 1);
    } else {
      delete parent[last];
    }
    return copy;
  };
  const precisely = (value: unknown): string => {
    try {
      validateRecordPrecisely(value);
      return 'valid';
    } catch (error) {
      expect(error).toBeInstanceOf(RecordError);
      return (error as Error).message;
    }
  };
  const validated = (value: unknown): string => {
    try {
      expect(validateRecord(value)).toBe(value);
      return 'valid';
    } catch (error) {
      expect(error).toBeInstanceOf(RecordError);
      return (error as Error).message;
    }
  };

  test('on every field of valid records set to wrong types, out-of-range values or removed, they agree, and the message is the precise one', () => {
    const optionalFieldsAbsent = documentedRecord();
    delete optionalFieldsAbsent.FaceSearchResponse[0].DetectedFace.Landmarks;
    delete optionalFieldsAbsent.FaceSearchResponse[0].DetectedFace.Pose;
    delete optionalFieldsAbsent.FaceSearchResponse[0].DetectedFace.Quality;
    delete optionalFieldsAbsent.FaceSearchResponse[0].MatchedFaces[0].Face.BoundingBox;
    // through JSON, as records arrive (and so that no two faces share an object a mutation would reach twice)
    const valid = [documentedRecord(), recordWith([{ matches: ['a', 'b', 'c'] }, { matches: [] }, { matches: ['d'] }]), optionalFieldsAbsent].map((r) => JSON.parse(JSON.stringify(r)));
    const outcomes = { valid: 0, invalid: 0 };
    for (const record of valid) {
      expect(isFaceSearchRecord(record)).toBe(true);
      expect(precisely(record)).toBe('valid');
      for (const path of [[], ...pathsOf(record)]) {
        for (const replacement of replacements) {
          const value = path.length === 0 ? (replacement === REMOVE ? undefined : replacement) : mutated(record, path, replacement);
          const expected = precisely(value);
          const where = `${path.join('.')} = ${String(replacement)}`;
          expect({ where, fast: isFaceSearchRecord(value) }).toEqual({ where, fast: expected === 'valid' });
          expect({ where, message: validated(value) }).toEqual({ where, message: expected });
          outcomes[expected === 'valid' ? 'valid' : 'invalid']++;
        }
      }
    }
    // the mutations reach both sides of every rule: most are rejected, some (optional fields removed, values in range) are not
    expect(outcomes.invalid).toBeGreaterThan(2000);
    expect(outcomes.valid).toBeGreaterThan(300);
  });

  test('records from JSON, valid or not, get the same answer and message from both', () => {
    const record = JSON.parse(JSON.stringify(recordWith([{ matches: ['a', 'b'] }, { matches: [] }]))); // faces share no objects
    record.FaceSearchResponse[1].DetectedFace.Landmarks[2] = 'nose';
    const values = [record, JSON.parse(JSON.stringify(documentedRecord())), JSON.parse('{"InputInformation":{"KinesisVideo":{}}}'), [], null, 42, 'text', { InputInformation: [] }];
    for (const value of values) {
      expect(isFaceSearchRecord(value)).toBe(precisely(value) === 'valid');
      expect(validated(value)).toBe(precisely(value));
    }
    expect(validated(record)).toBe('FaceSearchResponse[1].DetectedFace.Landmarks[2]: expected an object, got "nose"');
  });
});

describe('normalisation details', () => {
  test('frame and server times are exactly what toISOString gives, across seconds, days and years', () => {
    const times = [0, 0.001, 0.999, 59.9995, 86399.999, 86400, 951782400, 1700000000.0004, 1709164799.9996, 4102444800, 1e11 - 1.001];
    for (let i = 0; i < 200; i++) {
      times.push(Math.round(Math.random() * (1e14 - 1000)) / 1000);
    }
    for (const t of times) {
      const record = recordWith([{ matches: [] }], { producerTime: t, offset: 0 });
      record.InputInformation.KinesisVideo.FrameOffsetInSeconds = t > 1000 ? 123.456 : 0;
      const [event] = parseFaceRecord(toData(record), 'cam');
      const kv = record.InputInformation.KinesisVideo;
      expect([t, event.frameTime]).toEqual([t, new Date(Math.round((kv.ProducerTimestamp + kv.FrameOffsetInSeconds) * 1000)).toISOString()]);
      expect([t, event.serverTime]).toEqual([t, new Date(Math.round(kv.ServerTimestamp * 1000)).toISOString()]);
    }
  });

  test('matches of equal similarity keep the service order; matches already best first are not reordered', () => {
    const record = recordWith([{ matches: ['a', 'b', 'c'] }]);
    const [first, second, third] = record.FaceSearchResponse[0].MatchedFaces;
    first.Similarity = 90;
    second.Similarity = 95;
    third.Similarity = 95;
    expect(parseFaceRecord(toData(record), 'cam')[0].matches.map((m) => m.externalImageId)).toEqual(['b', 'c', 'a']);
    first.Similarity = 99;
    expect(parseFaceRecord(toData(record), 'cam')[0].matches.map((m) => m.externalImageId)).toEqual(['a', 'b', 'c']);
  });

  test('event ids are distinct per face and the same for the same record; match fields keep one order', () => {
    const data = toData(recordWith([{ matches: ['a'] }, { matches: [] }, { matches: [] }], { producerTime: 1700000000.125, offset: 0.5 }));
    const events = parseFaceRecord(data, 'cam');
    expect(events.map((e) => e.id)).toEqual([0, 1, 2].map((i) => `${VIDEO_STREAM_ARN}|9134385233328968279671853261444575758484${1700000000125}|1700000000.125|0.5|${i}`));
    expect(parseFaceRecord(data, 'cam').map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(Object.keys(events[0].match!)).toEqual(['faceId', 'similarity', 'externalImageId', 'imageId', 'confidence']);
    const partial = documentedRecord();
    delete partial.FaceSearchResponse[0].MatchedFaces[0].Face.ImageId;
    expect(Object.keys(parseFaceRecord(toData(partial), 'cam')[0].match!)).toEqual(['faceId', 'similarity', 'externalImageId', 'confidence']);
  });
});
