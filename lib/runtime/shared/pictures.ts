/**
 * Pixels, in pure JavaScript (no native binaries, so an arm64 bundle runs anywhere): JPEG decoding
 * and encoding with jpeg-js, and the crop of a box of a frame. Used by the frame sampler (the crop
 * it searches, the snapshots it stores) and by the consumer (snapshots of stream-processor frames).
 */
import * as jpeg from 'jpeg-js';

export interface Frame {
  readonly width: number;
  readonly height: number;
  /** RGBA */
  readonly data: Uint8Array;
}

/** Larger frames than this are refused (jpeg-js's memory guard; 4K is 33 MP of RGBA at most). */
const MAX_MEMORY_MB = 512;

export function decode(bytes: Buffer): Frame {
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: MAX_MEMORY_MB });
  return { width: image.width, height: image.height, data: image.data };
}

export function encode(frame: Frame, quality: number): Buffer {
  return Buffer.from(jpeg.encode({ data: frame.data, width: frame.width, height: frame.height }, quality).data);
}

/** A box as Rekognition gives it: ratios of the frame's width and height. */
export interface Box {
  readonly Width: number;
  readonly Height: number;
  readonly Left: number;
  readonly Top: number;
}

export interface Crop {
  readonly jpeg: Buffer;
  /** The crop in the frame's pixels. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface CropOptions {
  /** Padding on each side, as a share of the box's width and height. */
  readonly padding: number;
  /** JPEG quality, 1-100. */
  readonly quality: number;
  /** The crop is at least this many pixels wide and high (within the frame). @default 1 */
  readonly minPx?: number;
  /**
   * At a frame's edge: 'shift' moves the crop inside the frame, keeping its size (what a search
   * needs); 'clip' cuts it at the edge, keeping it centred on the box (what a person should see).
   */
  readonly atEdge: 'shift' | 'clip';
}

/** The box with its padding, in the frame's pixels, as a JPEG. */
export function cropBox(frame: Frame, box: Box, options: CropOptions): Crop {
  const fw = frame.width;
  const fh = frame.height;
  const minPx = options.minPx ?? 1;
  let x: number;
  let y: number;
  let w: number;
  let h: number;
  if (options.atEdge === 'shift') {
    const cx = (box.Left + box.Width / 2) * fw;
    const cy = (box.Top + box.Height / 2) * fh;
    w = Math.min(fw, Math.max(minPx, Math.round(box.Width * fw * (1 + 2 * options.padding))));
    h = Math.min(fh, Math.max(minPx, Math.round(box.Height * fh * (1 + 2 * options.padding))));
    x = Math.max(0, Math.min(fw - w, Math.round(cx - w / 2)));
    y = Math.max(0, Math.min(fh - h, Math.round(cy - h / 2)));
  } else {
    const left = Math.max(0, Math.round((box.Left - box.Width * options.padding) * fw));
    const top = Math.max(0, Math.round((box.Top - box.Height * options.padding) * fh));
    const right = Math.min(fw, Math.round((box.Left + box.Width * (1 + options.padding)) * fw));
    const bottom = Math.min(fh, Math.round((box.Top + box.Height * (1 + options.padding)) * fh));
    x = Math.min(left, fw - minPx);
    y = Math.min(top, fh - minPx);
    w = Math.max(minPx, right - x);
    h = Math.max(minPx, bottom - y);
  }
  const data = Buffer.alloc(w * h * 4);
  const src = frame.data;
  for (let row = 0; row < h; row++) {
    const from = ((y + row) * fw + x) * 4;
    data.set(src.subarray(from, from + w * 4), row * w * 4);
  }
  return { jpeg: encode({ data, width: w, height: h }, options.quality), x, y, width: w, height: h };
}
