/**
 * Deploys a frame-sampling camera, enrols the fixture photograph, streams the fixture video with
 * put-media and expects a "Face Matched" event for that person (test/integ/face-match-test.ts).
 * Every account can run it: `npm run integ:deploy`.
 */
import { FaceSearchEngine } from '../../lib/index';
import { faceMatchTest } from './face-match-test';

faceMatchTest('FaceMatchFrameSampling', FaceSearchEngine.frameSampling()).synth();
