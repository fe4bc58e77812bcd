/**
 * A real face through the frame sampler, with a real face detector standing in for DetectFaces:
 * OpenCV's (Debian python3-opencv, run by test/support/opencv-faces.py) finds the faces of the
 * public-domain fixture photograph (test/fixtures/faces) in H.264 frames made from it, the local
 * Rekognition answers DetectFaces with those boxes, and every crop the bundled sampler sends to
 * SearchFacesByImage is checked: located in its frame (template matching), it holds the whole box
 * the detector found in the whole frame, and the detector finds that face in the crop alone.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ApiError, AwsJsonServer } from './support/aws-json-server';
import { cameraInput, context, DATA_ARN, loadSampler, SamplerServices, startSamplerServices } from './support/frame-sampler-harness';
import { FFMPEG } from './support/media-tools';
import { jpegsPerSecond, SCENE_PHOTO, serveJpegsPerSecond } from './support/real-video';
import { venvBin } from './support/tools';
import { checkIam } from './support/iam-check';
import { samplerDeployment, samplerRole } from './support/iam-deployments';

// every AWS call the sampler makes is evaluated against the synthesized policies (test/support/iam-check.ts)
checkIam({ deployment: samplerDeployment, callers: { AKIDEXAMPLE: samplerRole } });

const OPENCV = path.join(__dirname, 'support', 'opencv-faces.py');
type Box = [number, number, number, number];
interface Detected { readonly width: number; readonly height: number; readonly faces: Box[] }

/** Rekognition's image APIs answered by OpenCV's detections (made beforehand, by image bytes). */
class OpenCvRekognition extends AwsJsonServer {
  /** sha256 of a JPEG -> what the detector found in it */
  public readonly detections = new Map<string, Detected & { file: string }>();
  /** every SearchFacesByImage image, with the frame of the DetectFaces call before it */
  public readonly searches: Array<{ frame: string; crop: Buffer }> = [];
  private lastFrame = '';

  constructor() {
    super('RekognitionService', 'application/x-amz-json-1.1', 'rekognition');
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    const bytes = Buffer.from(String(body.Image?.Bytes ?? ''), 'base64');
    delete body.Image;
    if (operation === 'DetectFaces') {
      const found = this.detections.get(createHash('sha256').update(bytes).digest('hex'));
      if (!found) throw new ApiError('InvalidImageFormatException', 'an image this test did not serve');
      this.lastFrame = found.file;
      return {
        FaceDetails: found.faces.map(([x, y, w, h]) => ({
          BoundingBox: { Left: x / found.width, Top: y / found.height, Width: w / found.width, Height: h / found.height },
          Confidence: 99.5,
        })),
      };
    }
    if (operation === 'SearchFacesByImage') {
      this.searches.push({ frame: this.lastFrame, crop: bytes });
      return { SearchedFaceBoundingBox: { Left: 0.3, Top: 0.3, Width: 0.4, Height: 0.4 }, SearchedFaceConfidence: 99.5, FaceMatches: [], FaceModelVersion: '7.0' };
    }
    throw new ApiError('UnknownOperationException', `${operation} is not answered by this fake`);
  }
}

let services: SamplerServices;
let rekognition: OpenCvRekognition;
let dir: string;
let frames: Buffer[];
let frameFiles: string[];
jest.setTimeout(180_000);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'real-face-'));
  // two people side by side (the photograph and its mirror image), drifting a little: 4 s of 1280x720 H.264
  const video = path.join(dir, 'two-faces.mkv');
  execFileSync(FFMPEG, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x6a6a6a:s=1280x720:r=5', '-loop', '1', '-framerate', '5', '-i', SCENE_PHOTO,
    '-filter_complex', "[1]scale=420:420,split[a][b];[b]hflip[m];[0][a]overlay=x='120+t*12':y=150[l];[l][m]overlay=x='720-t*12':y=150,noise=alls=8:allf=t:all_seed=5,format=yuv420p",
    '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '26', '-g', '5', '-bf', '0', video], { stdio: ['ignore', 'ignore', 'pipe'] });
  frames = jpegsPerSecond(video);
  frameFiles = frames.map((jpeg, k) => {
    const file = path.join(dir, `frame-${k}.jpg`);
    writeFileSync(file, jpeg);
    return file;
  });
  const detected: Record<string, Detected> = JSON.parse(execFileSync(venvBin('python'), [OPENCV, 'detect', ...frameFiles], { encoding: 'utf8' }));
  services = await startSamplerServices();
  rekognition = new OpenCvRekognition();
  frames.forEach((jpeg, k) => rekognition.detections.set(createHash('sha256').update(jpeg).digest('hex'), { ...detected[frameFiles[k]], file: frameFiles[k] }));
  process.env.AWS_ENDPOINT_URL_REKOGNITION = await rekognition.start();
});
afterAll(async () => {
  await rekognition?.stop();
  await services?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the detector finds both faces in every frame of the fixture video', () => {
  for (const found of rekognition.detections.values()) {
    expect(found.faces).toHaveLength(2);
  }
});

test('every crop the sampler sends to the search holds the face the detector found in the whole frame', async () => {
  services.kinesis.streams.add(DATA_ARN);
  serveJpegsPerSecond(services, frames);
  await loadSampler()(cameraInput(), context());

  // two faces in the first analysed frame: each searched on a crop of its own (later frames carry them forward)
  expect(rekognition.callsOf('DetectFaces').length).toBeGreaterThanOrEqual(1);
  expect(rekognition.searches.length).toBeGreaterThanOrEqual(2);
  const pairs = rekognition.searches.map(({ frame, crop }, k) => {
    const file = path.join(dir, `crop-${k}.jpg`);
    writeFileSync(file, crop);
    return { frame, crop: file };
  });
  const located: Array<{ at: Box; difference: number; faces: Box[] }> = JSON.parse(execFileSync(venvBin('python'), [OPENCV, 'locate'], { input: JSON.stringify(pairs), encoding: 'utf8' }));
  const facesHeld = located.map(({ at: [cx, cy, cw, ch], difference, faces }, k) => {
    expect(difference).toBeLessThan(0.01); // the crop is a piece of that frame
    const frameFaces = [...rekognition.detections.values()].find((d) => d.file === pairs[k].frame)!.faces;
    const inside = frameFaces.filter(([x, y, w, h]) => x >= cx && y >= cy && x + w <= cx + cw && y + h <= cy + ch);
    // the face the detector found in the whole frame lies wholly in the crop, and it finds it in the crop alone
    expect(inside).toHaveLength(1);
    expect(faces).toHaveLength(1);
    const [, , w] = inside[0];
    expect(Math.abs(faces[0][2] - w)).toBeLessThanOrEqual(w * 0.25);
    return `${inside[0][0]},${inside[0][1]}`;
  });
  // the two crops are of the two different faces
  expect(new Set(facesHeld.slice(0, 2)).size).toBe(2);
});
