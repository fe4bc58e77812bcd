import { decodeRecord, MAX_RECORD_BYTES, normaliseRecord, parseFaceRecord, RecordError, validateRecord, videoStreamName } from '../lib/runtime/face-records/parser';
import { documentedRecord, recordWith, toData, VIDEO_STREAM_ARN } from './fixtures/face-records';

describe('the documented example record', () => {
  test('parses into one Face Matched event with the documented values in the event schema', () => {
    const [event, ...rest] = parseFaceRecord(toData(documentedRecord()), 'front-door');
    expect(rest).toEqual([]);
    expect(event).toEqual({
      version: '1',
      id: `${VIDEO_STREAM_ARN}|91343852333289682796718532614445757584843717598|1510552593.193|2|0`,
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
