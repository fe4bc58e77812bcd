#!/usr/bin/env node
/**
 * `cdk-face-stream-pipeline put-media`: streams an MKV file or standard input into a Kinesis video
 * stream with PutMedia. Bundled into one dependency-free file (assets/cli/index.js), the package's bin.
 */
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ACK_ERRORS, EXIT, Progress, putMedia, PutMediaError } from './put-media';

const HELP = `Usage: cdk-face-stream-pipeline put-media --stream <name-or-arn> [options] [file.mkv | -]

Streams an MKV file (H.264 video, fragments starting on an I-frame), or standard input with "-",
into a Kinesis video stream with the Kinesis Video Streams PutMedia API.

Options:
  --stream <name|arn>            the Kinesis video stream, by name or ARN (required)
  --file <path|->                the MKV to send; "-" or no file reads standard input
  --region <region>              the AWS Region (default: AWS_REGION or your profile's Region)
  --timecode-type <type>         ABSOLUTE or RELATIVE: how the MKV's cluster timecodes are read
                                 (default: RELATIVE, relative to the producer start timestamp)
  --producer-start-timestamp <s> the producer start time in epoch seconds (default: now)
  --quiet                        print only errors
  -h, --help                     this help

Credentials come from the standard AWS chain (environment, profile, SSO, instance role).
The caller needs kinesisvideo:GetDataEndpoint and kinesisvideo:PutMedia on the stream
(VideoStream.grantWrite grants them).

Exit codes:
  0  every fragment sent was acknowledged PERSISTED or the service closed the stream cleanly
  1  usage error (unknown flag, missing --stream, unreadable file)
  2  AWS error before streaming (GetDataEndpoint: stream not found, access denied, no credentials)
  3  HTTP error from PutMedia (for example 403 access denied, 404 stream not found)
  4  an ERROR acknowledgement: the error id, its name and what it means are printed
`;

interface Args {
  stream?: string;
  file?: string;
  region?: string;
  timecodeType: 'ABSOLUTE' | 'RELATIVE';
  producerStartTimestamp: number;
  quiet: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { timecodeType: 'RELATIVE', producerStartTimestamp: Date.now() / 1000, quiet: false, help: false };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined) {
      throw new PutMediaError(EXIT.USAGE, `${flag} needs a value`);
    }
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--stream':
        args.stream = value(i++, arg);
        break;
      case '--file':
        args.file = value(i++, arg);
        break;
      case '--region':
        args.region = value(i++, arg);
        break;
      case '--timecode-type': {
        const v = value(i++, arg).toUpperCase();
        if (v !== 'ABSOLUTE' && v !== 'RELATIVE') {
          throw new PutMediaError(EXIT.USAGE, `--timecode-type must be ABSOLUTE or RELATIVE, got ${JSON.stringify(v)}`);
        }
        args.timecodeType = v;
        break;
      }
      case '--producer-start-timestamp': {
        const v = Number(value(i++, arg));
        if (!Number.isFinite(v) || v < 0) {
          throw new PutMediaError(EXIT.USAGE, '--producer-start-timestamp must be epoch seconds, for example 1700000000.5');
        }
        args.producerStartTimestamp = v;
        break;
      }
      case '--quiet':
        args.quiet = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') {
          throw new PutMediaError(EXIT.USAGE, `unknown flag ${arg} (see --help)`);
        }
        if (args.file !== undefined) {
          throw new PutMediaError(EXIT.USAGE, `one input only, got ${args.file} and ${arg}`);
        }
        args.file = arg;
    }
  }
  return args;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function progressPrinter(quiet: boolean, total: number | undefined): (p: Progress) => void {
  if (quiet) {
    return () => undefined;
  }
  if (process.stderr.isTTY) {
    let last = 0;
    return (p) => {
      const now = Date.now();
      if (now - last < 100) {
        return;
      }
      last = now;
      const width = 30;
      const done = total ? Math.min(width, Math.round((p.bytesSent / total) * width)) : 0;
      const bar = total ? `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ` : '';
      process.stderr.write(`\r${bar}${mb(p.bytesSent)}${total ? ` of ${mb(total)}` : ''} sent, ${p.fragmentsPersisted} fragments persisted   `);
    };
  }
  let persisted = 0;
  return (p) => {
    if (p.fragmentsPersisted > persisted) {
      persisted = p.fragmentsPersisted;
      process.stderr.write(`persisted fragment ${p.lastAck?.FragmentNumber ?? '?'} (${persisted} so far, ${p.bytesSent} bytes sent)\n`);
    }
  };
}

export async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    const [command, ...rest] = argv;
    if (command === '-h' || command === '--help' || command === undefined) {
      process.stdout.write(HELP);
      return command === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (command !== 'put-media') {
      throw new PutMediaError(EXIT.USAGE, `unknown command ${JSON.stringify(command)}; the command is put-media (see --help)`);
    }
    args = parseArgs(rest);
    if (args.help) {
      process.stdout.write(HELP);
      return EXIT.OK;
    }
    if (!args.stream) {
      throw new PutMediaError(EXIT.USAGE, '--stream is required: the name or ARN of the Kinesis video stream');
    }
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return (error as PutMediaError).exitCode ?? EXIT.USAGE;
  }
  let input: Readable;
  let total: number | undefined;
  if (!args.file || args.file === '-') {
    input = process.stdin;
  } else {
    try {
      total = statSync(args.file).size;
    } catch (error) {
      process.stderr.write(`error: cannot read ${args.file}: ${(error as Error).message}\n`);
      return EXIT.USAGE;
    }
    input = createReadStream(args.file);
  }
  try {
    const result = await putMedia({
      stream: args.stream,
      input,
      region: args.region,
      timecodeType: args.timecodeType,
      producerStartTimestamp: args.producerStartTimestamp,
      onProgress: progressPrinter(args.quiet, total),
    });
    if (!args.quiet) {
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}done: ${result.bytesSent} bytes sent, ${result.fragmentsPersisted} fragments persisted\n`);
    }
    return EXIT.OK;
  } catch (error) {
    const e = error as PutMediaError;
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}error: ${e.message}\n`);
    if (e.errorId !== undefined && !ACK_ERRORS[e.errorId]) {
      process.stderr.write('(an error id this tool does not know: see the PutMedia page of the Kinesis Video Streams API reference)\n');
    }
    return e.exitCode ?? EXIT.AWS;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
