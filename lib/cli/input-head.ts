/**
 * The first bytes of put-media's input, read without taking them from it: a regular file is read
 * at offset 0 (its own descriptor, closed again); standard input is read and its bytes put back
 * (`unshift`), so the upload still sends them. A file that cannot be read at an offset (a FIFO, a
 * device) gives undefined: the upload checks its first chunk instead.
 */
import { close, open, read, stat } from 'node:fs';
import type { Readable } from 'node:stream';

/** How many bytes decide whether the input is an MKV (the EBML header's id). */
export const MKV_HEAD_BYTES = 4;

/** Up to MKV_HEAD_BYTES of the input's start (fewer if it is shorter), or undefined when they cannot be read ahead. */
export async function head(options: { readonly file?: string; readonly input?: Readable }): Promise<Buffer | undefined> {
  if (options.file !== undefined) {
    return fileHead(options.file);
  }
  return options.input ? streamHead(options.input) : Buffer.alloc(0);
}

function fileHead(file: string): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    // stat by path first: opening a named pipe would wait for its writer, and closing it again
    // would break that writer's pipe
    stat(file, (error, stats) => {
      if (error || !stats.isFile()) {
        return error ? reject(error) : resolve(undefined);
      }
      open(file, 'r', (e, fd) => {
        if (e) {
          return reject(e);
        }
        const buffer = Buffer.alloc(MKV_HEAD_BYTES);
        read(fd, buffer, 0, MKV_HEAD_BYTES, 0, (e2, bytes) => close(fd, () => (e2 ? reject(e2) : resolve(buffer.subarray(0, bytes)))));
      });
    });
  });
}

/** Reads up to MKV_HEAD_BYTES from a stream and puts them back (unless the stream ended: then it is shorter and is not sent). */
function streamHead(input: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = () => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (length < MKV_HEAD_BYTES && (chunk = input.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= MKV_HEAD_BYTES) {
        stop();
        const all = Buffer.concat(chunks);
        input.unshift(all);
        resolve(all.subarray(0, MKV_HEAD_BYTES));
      }
    };
    input.on('readable', onReadable);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}
