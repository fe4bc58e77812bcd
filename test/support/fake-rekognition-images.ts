/**
 * A local Rekognition endpoint (AWS JSON 1.1, `RekognitionService.*`) for the image APIs the frame
 * sampler uses, answering from the pixels it is sent (test/support/frames.ts draws the faces):
 * - DetectFaces: every magenta-rimmed square that lies wholly inside the image is a face (box,
 *   confidence, landmarks, pose, quality);
 * - SearchFacesByImage: searches only the LARGEST face of the image, like the service; an image
 *   with no whole face answers InvalidParameterException; the face's fill colour is the person,
 *   matched against the faces indexed for it in the collection (`enrol`);
 * - SearchUsersByImage: likewise the LARGEST face only, matched against the users of the collection
 *   (`enrolUser`: one user per person, from all of their faces); an image with no whole face answers
 *   no SearchedFace and no UserMatches (not an error, unlike SearchFacesByImage); a user with no
 *   face (CREATED) matches nothing.
 * Image bytes are not kept in `calls` (a benchmark sends thousands of frames).
 */
import * as jpeg from 'jpeg-js';
import { ApiError, AwsJsonServer } from './aws-json-server';
import { PALETTE } from './frames';

export interface FoundFace {
  readonly person?: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

const isRim = (r: number, g: number, b: number) => r > 170 && g < 110 && b > 170;

/** The whole rimmed squares of a JPEG, and the person each one's fill colour names. */
export function findFaces(bytes: Buffer): { faces: FoundFace[]; width: number; height: number } {
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  const { width, height, data } = image;
  const mask = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    mask[p] = isRim(data[p * 4], data[p * 4 + 1], data[p * 4 + 2]) ? 1 : 0;
  }
  const faces: FoundFace[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 1) continue;
    let x0 = width, y0 = height, x1 = -1, y1 = -1, count = 0;
    mask[start] = 2;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      count++;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      for (const q of [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1]) {
        if (q >= 0 && mask[q] === 1) {
          mask[q] = 2;
          stack.push(q);
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const touchesEdge = x0 === 0 || y0 === 0 || x1 === width - 1 || y1 === height - 1;
    // a whole rim: big enough, square, hollow, not cut by the image's edge
    if (w < 16 || h < 16 || Math.abs(w - h) > Math.max(w, h) * 0.2 || count > w * h * 0.8 || touchesEdge) continue;
    let r = 0, g = 0, b = 0, n = 0;
    for (let y = y0 + Math.round(h * 0.35); y < y0 + Math.round(h * 0.65); y++) {
      for (let x = x0 + Math.round(w * 0.35); x < x0 + Math.round(w * 0.65); x++) {
        const i = (y * width + x) * 4;
        r += data[i]; g += data[i + 1]; b += data[i + 2]; n++;
      }
    }
    let person: string | undefined;
    let best = 60 * 60 * 3;
    for (const [name, [pr, pg, pb]] of Object.entries(PALETTE)) {
      const d = (r / n - pr) ** 2 + (g / n - pg) ** 2 + (b / n - pb) ** 2;
      if (d < best) { best = d; person = name; }
    }
    faces.push({ person, x: x0, y: y0, width: w, height: h });
  }
  return { faces, width, height };
}

export class FakeRekognitionImages extends AwsJsonServer {
  /** collection id -> person -> face ids */
  public readonly collections = new Map<string, Map<string, string[]>>();
  /** people seen by each SearchFacesByImage and SearchUsersByImage, in order ('' for no face) */
  public readonly searched: string[] = [];
  /** collection id -> user id -> the faces associated with it */
  public readonly users = new Map<string, Map<string, string[]>>();

  constructor() {
    super('RekognitionService', 'application/x-amz-json-1.1', 'rekognition');
  }

  public reset(): void {
    super.reset();
    this.searched.length = 0;
  }

  public enrol(collectionId: string, person: string, faceId: string): void {
    const people = this.collections.get(collectionId) ?? new Map<string, string[]>();
    people.set(person, [...(people.get(person) ?? []), faceId]);
    this.collections.set(collectionId, people);
  }

  /** A user of the person (its id is the person's name) with these faces associated. */
  public enrolUser(collectionId: string, person: string, faceIds: string[]): void {
    faceIds.forEach((faceId) => this.enrol(collectionId, person, faceId));
    const users = this.users.get(collectionId) ?? new Map<string, string[]>();
    users.set(person, [...faceIds]);
    this.users.set(collectionId, users);
  }

  public count(operation: string): number {
    return this.callsOf(operation).length;
  }

  private image(body: Record<string, any>): Buffer {
    const b64 = body.Image?.Bytes;
    delete body.Image; // not kept in `calls`
    if (typeof b64 !== 'string' || b64.length === 0) {
      throw new ApiError('InvalidParameterException', 'Image.Bytes is required (S3Object is not supported by this fake)');
    }
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length > 5 * 1024 * 1024) {
      throw new ApiError('ImageTooLargeException', 'Image size is too large.');
    }
    return bytes;
  }

  /** The searches' rule: only the largest face of the image is searched (recorded in `searched`). */
  private largestFace(body: Record<string, any>): { found: ReturnType<typeof findFaces>; largest?: FoundFace; others: FoundFace[] } {
    const found = findFaces(this.image(body));
    if (found.width < 80 || found.height < 80) {
      throw new ApiError('InvalidParameterException', `Requested image should have at least 80 pixels in each dimension, got ${found.width}x${found.height}`);
    }
    const [largest, ...others] = [...found.faces].sort((a, b) => b.width * b.height - a.width * a.height);
    this.searched.push(largest ? largest.person ?? '?' : '');
    return { found, largest, others };
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    switch (operation) {
      case 'DetectFaces': {
        const bytes = this.image(body);
        let found;
        try {
          found = findFaces(bytes);
        } catch {
          throw new ApiError('InvalidImageFormatException', 'Request has invalid image format');
        }
        return {
          FaceDetails: found.faces.map((f) => ({
            BoundingBox: { Width: f.width / found.width, Height: f.height / found.height, Left: f.x / found.width, Top: f.y / found.height },
            Landmarks: [
              { Type: 'eyeLeft', X: (f.x + f.width * 0.3) / found.width, Y: (f.y + f.height * 0.4) / found.height },
              { Type: 'eyeRight', X: (f.x + f.width * 0.7) / found.width, Y: (f.y + f.height * 0.4) / found.height },
              { Type: 'nose', X: (f.x + f.width * 0.5) / found.width, Y: (f.y + f.height * 0.6) / found.height },
            ],
            Pose: { Roll: 1.5, Yaw: -3.2, Pitch: 4.1 },
            Quality: { Brightness: 72.5, Sharpness: 86.1 },
            Confidence: 99.8,
          })),
        };
      }
      case 'SearchFacesByImage': {
        const people = this.collections.get(body.CollectionId);
        if (!people) {
          throw new ApiError('ResourceNotFoundException', `The collection id: ${body.CollectionId} does not exist`);
        }
        const { found, largest } = this.largestFace(body);
        if (!largest) {
          throw new ApiError('InvalidParameterException', 'There are no faces in the image. Should be at least 1.');
        }
        const threshold = body.FaceMatchThreshold ?? 80;
        const similarity = 99.1;
        const ids = similarity >= threshold && largest.person ? people.get(largest.person) ?? [] : [];
        return {
          SearchedFaceBoundingBox: { Width: largest.width / found.width, Height: largest.height / found.height, Left: largest.x / found.width, Top: largest.y / found.height },
          SearchedFaceConfidence: 99.8,
          FaceMatches: ids.slice(0, body.MaxFaces ?? 80).map((faceId, i) => ({
            Similarity: similarity - i * 0.5,
            Face: { FaceId: faceId, BoundingBox: { Width: 0.4, Height: 0.5, Left: 0.3, Top: 0.2 }, ImageId: `image-${faceId}`, ExternalImageId: largest.person, Confidence: 99.9, IndexFacesModelVersion: '7.0' },
          })),
          FaceModelVersion: '7.0',
        };
      }
      case 'SearchUsersByImage': {
        if (!this.collections.has(body.CollectionId) && !this.users.has(body.CollectionId)) {
          throw new ApiError('ResourceNotFoundException', `The collection id: ${body.CollectionId} does not exist`);
        }
        const threshold = body.UserMatchThreshold ?? 80;
        const maxUsers = body.MaxUsers ?? 5;
        if (threshold < 0 || threshold > 100 || maxUsers < 1 || maxUsers > 500) {
          throw new ApiError('InvalidParameterException', 'UserMatchThreshold must be 0-100 and MaxUsers 1-500');
        }
        const { found, largest, others } = this.largestFace(body);
        if (!largest) {
          return { UserMatches: [], UnsearchedFaces: [], FaceModelVersion: '7.0' };
        }
        const box = (f: FoundFace) => ({ Width: f.width / found.width, Height: f.height / found.height, Left: f.x / found.width, Top: f.y / found.height });
        const similarity = 99.4;
        const faces = largest.person ? this.users.get(body.CollectionId)?.get(largest.person) : undefined;
        const matched = similarity >= threshold && faces && faces.length > 0;
        return {
          SearchedFace: { FaceDetail: { BoundingBox: box(largest), Confidence: 99.8 } },
          UserMatches: matched ? [{ Similarity: similarity, User: { UserId: largest.person, UserStatus: 'ACTIVE' } }].slice(0, maxUsers) : [],
          UnsearchedFaces: others.map((f) => ({ FaceDetails: { BoundingBox: box(f), Confidence: 99.8 }, Reasons: ['FACE_NOT_LARGEST'] })),
          FaceModelVersion: '7.0',
        };
      }
      default:
        throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
    }
  }
}
