/**
 * The same as integ.frame-sampling.ts with a Rekognition stream processor: only for accounts that
 * still have stream processors (closed to new customers since 2026-04-30).
 */
import { FaceSearchEngine } from '../../lib/index';
import { faceMatchTest } from './face-match-test';

faceMatchTest('FaceMatchStreamProcessor', FaceSearchEngine.streamProcessor()).synth();
