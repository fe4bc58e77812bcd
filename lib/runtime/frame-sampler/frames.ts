/**
 * What the sampler does with pixels (../shared/pictures.ts decodes, encodes and crops): a colour
 * thumbnail to tell changed frames from unchanged ones, and the padded crop of one face that the
 * search is sent.
 */
import { Box, Crop, cropBox, Frame } from '../shared/pictures';


/** Thumbnail grid: 32 x 18 cells (16:9 frames give square cells). */
export const THUMB_W = 32;
export const THUMB_H = 18;

/**
 * The mean red, green and blue of each cell of a THUMB_W x THUMB_H grid (3 bytes per cell),
 * sampling every other pixel of every other row (enough for an average; half the work). Colour,
 * not only luma: a face can have the luma of the wall behind it.
 */
export function thumbnail(frame: Frame): Uint8Array {
  const cells = THUMB_W * THUMB_H;
  const sums = new Float64Array(cells * 3);
  const counts = new Uint32Array(cells);
  const { width, height, data } = frame;
  for (let y = 0; y < height; y += 2) {
    const row = Math.min(THUMB_H - 1, Math.floor((y * THUMB_H) / height)) * THUMB_W;
    for (let x = 0; x < width; x += 2) {
      const i = (y * width + x) * 4;
      const cell = row + Math.min(THUMB_W - 1, Math.floor((x * THUMB_W) / width));
      sums[cell * 3] += data[i];
      sums[cell * 3 + 1] += data[i + 1];
      sums[cell * 3 + 2] += data[i + 2];
      counts[cell]++;
    }
  }
  const thumb = new Uint8Array(cells * 3);
  for (let c = 0; c < cells; c++) {
    for (let k = 0; k < 3; k++) {
      thumb[c * 3 + k] = counts[c] ? Math.round(sums[c * 3 + k] / counts[c]) : 0;
    }
  }
  return thumb;
}

/**
 * A frame is UNCHANGED when, against the last analysed frame, the mean absolute difference of the
 * cells' channels is below MEAN_THRESHOLD levels and no cell's channel moved by more than
 * CELL_THRESHOLD levels. Sensor noise and JPEG artefacts average out within a cell (a cell of a
 * 1280x720 frame is 40x40 pixels), and a global light change moves the mean; a face (at least 4%
 * of the width by default, more than one cell) entering, leaving or moving changes its cells by far
 * more than the cell threshold.
 *
 * Measured on real H.264 (test/frame-sampler-real-video.test.ts: a photographed scene, ffmpeg's
 * temporal noise, libx264 CRF 30, one JPEG a second at 1280x720): between two frames of a static
 * scene the mean moves 0.6 levels in a lit room (noise +-10) and 1.5-1.6 in a dark one (+-30), no
 * cell more than 4 and 9-10; a person-sized object moves some cell by 23-32 (64 x 176 pixels,
 * 8 px/s) to 135-155 (160 x 440, 90 px/s). The thresholds sit between the two: 1.5 and 12 analysed 9 of 10 frames
 * of the dark static scene; 2.5 and 16 skip them all and still analyse every frame with a person.
 */
export const MEAN_THRESHOLD = 2.5;
export const CELL_THRESHOLD = 16;

export function changed(previous: Uint8Array | undefined, current: Uint8Array): boolean {
  if (!previous || previous.length !== current.length) {
    return true;
  }
  let total = 0;
  for (let c = 0; c < current.length; c++) {
    const d = Math.abs(current[c] - previous[c]);
    if (d > CELL_THRESHOLD) {
      return true;
    }
    total += d;
  }
  return total / current.length >= MEAN_THRESHOLD;
}

/** Rekognition refuses images smaller than 80 x 80 pixels. */
export const MIN_CROP_PX = 80;
/** Padding on each side of the face, as a share of the face's size: the model needs some context. */
export const CROP_PADDING = 0.5;

/** The face's box, padded, at least MIN_CROP_PX square (clamped to the frame), as a JPEG. */
export function cropFace(frame: Frame, box: Box, quality = 90): Crop {
  return cropBox(frame, box, { padding: CROP_PADDING, quality, minPx: MIN_CROP_PX, atEdge: 'shift' });
}
