/**
 * Real H.264 media made at test time with Debian's ffmpeg and GStreamer (scripts/apt-packages.txt):
 * MKVs as ffmpeg's matroska muxer and GStreamer's matroskamux (what kvssink writes) produce them.
 * Made in a temporary folder rather than committed: what is tested is what the installed tools
 * write today, and a few seconds of small video take well under a second each to encode.
 */
import { execFileSync } from 'node:child_process';

export const FFMPEG = 'ffmpeg';
export const GST_LAUNCH = 'gst-launch-1.0';

export interface VideoOptions {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** keyframe interval, frames */
  readonly gop: number;
  readonly seconds: number;
}

/** ffmpeg's own test pattern (moving), encoded with libx264, muxed by ffmpeg's matroska muxer. */
export function ffmpegMkv(out: string, o: VideoOptions, extra: string[] = ['-bf', '0']): void {
  execFileSync(FFMPEG, [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`, '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(o.gop), ...extra, out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** GStreamer's test pattern, x264enc as the README's kvssink pipeline sets it, matroskamux streamable=true. */
export function gstreamerMkv(out: string, o: VideoOptions): void {
  execFileSync(GST_LAUNCH, [
    '-q', 'videotestsrc', `num-buffers=${o.fps * o.seconds}`, 'pattern=ball', '!',
    `video/x-raw,format=I420,width=${o.width},height=${o.height},framerate=${o.fps}/1`, '!',
    'x264enc', 'bframes=0', `key-int-max=${o.gop}`, 'tune=zerolatency', 'speed-preset=ultrafast', '!',
    'video/x-h264,stream-format=avc,alignment=au,profile=baseline', '!',
    'matroskamux', 'streamable=true', '!', 'filesink', `location=${out}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
}
