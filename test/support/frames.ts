/**
 * Synthetic camera frames as JPEG: a textured grey background with optional sensor noise and
 * "faces" that the fake Rekognition (fake-rekognition-images.ts) recognises: a square with a
 * magenta rim (the face) filled with one colour of PALETTE (the person). A crop that cuts the rim
 * holds no face for the fake, so a wrong crop is caught.
 */
import * as jpeg from 'jpeg-js';

export const PALETTE: Record<string, [number, number, number]> = {
  alice: [220, 40, 40],
  bob: [40, 190, 40],
  carol: [40, 60, 220],
  stranger: [230, 220, 40],
};
export const RIM: [number, number, number] = [255, 0, 255];

export interface SceneFace {
  readonly person: string;
  /** top-left corner and size, in pixels */
  readonly x: number;
  readonly y: number;
  readonly size: number;
}

export interface Scene {
  readonly width: number;
  readonly height: number;
  readonly faces?: SceneFace[];
  /** per-pixel noise amplitude (luma levels), seeded */
  readonly noise?: number;
  readonly seed?: number;
  /** added to every pixel: a slow light change */
  readonly light?: number;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % 10000) / 10000;
  };
}

export function renderPixels(scene: Scene): Buffer {
  const { width, height } = scene;
  const data = Buffer.alloc(width * height * 4);
  const random = rng(scene.seed ?? 1);
  const noise = scene.noise ?? 0;
  const light = scene.light ?? 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const base = 70 + Math.round((60 * x) / width) + ((x >> 4) + (y >> 4)) % 2 * 12 + light;
      const n = noise ? Math.round((random() * 2 - 1) * noise) : 0;
      const v = Math.max(0, Math.min(255, base + n));
      data[i] = v;
      data[i + 1] = v;
      data[i + 2] = Math.max(0, Math.min(255, v + 6));
      data[i + 3] = 255;
    }
  }
  for (const face of scene.faces ?? []) {
    const color = PALETTE[face.person];
    if (!color) {
      throw new Error(`no colour for person ${face.person}`);
    }
    const rim = Math.max(3, Math.round(face.size / 8));
    for (let y = face.y; y < face.y + face.size && y < height; y++) {
      for (let x = face.x; x < face.x + face.size && x < width; x++) {
        if (x < 0 || y < 0) continue;
        const inner = x >= face.x + rim && x < face.x + face.size - rim && y >= face.y + rim && y < face.y + face.size - rim;
        const [r, g, b] = inner ? color : RIM;
        const i = (y * width + x) * 4;
        data[i] = r;
        data[i + 1] = g;
        data[i + 2] = b;
      }
    }
  }
  return data;
}

export function renderFrame(scene: Scene, quality = 85): Buffer {
  return Buffer.from(jpeg.encode({ data: renderPixels(scene), width: scene.width, height: scene.height }, quality).data);
}
