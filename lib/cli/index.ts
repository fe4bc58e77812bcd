#!/usr/bin/env node
/**
 * `cdk-face-stream-pipeline put-media`: streams an MKV file or standard input into a Kinesis video
 * stream with PutMedia; `follow` (lib/cli/follow.ts) and `enrol` (lib/cli/enrol.ts). Bundled into one dependency-free file (assets/cli/index.js), the package's bin.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { EXIT, CliError } from './exit';
import { flagValue } from './args';
import type { Progress } from './put-media';

const HELP = `Usage: cdk-face-stream-pipeline put-media --stream <name-or-arn> [options] [file.mkv | -]
       cdk-face-stream-pipeline follow --stream <data-stream-name-or-arn> [options]   (follow --help)
       cdk-face-stream-pipeline enrol --name <person> --bucket <enrolment-bucket> <source>  (enrol --help; also "enroll")
       cdk-face-stream-pipeline --version

put-media streams an MKV file (H.264 video, fragments starting on an I-frame), or standard input
with "-", into a Kinesis video stream with the Kinesis Video Streams PutMedia API, and checks that
every fragment sent is acknowledged PERSISTED.

Options:
  --stream <name|arn>            the Kinesis video stream, by name or ARN (required)
  --file <path|->                the MKV to send; "-" or no file reads standard input
  --region <region>              the AWS Region (default: AWS_REGION or your profile's Region)
  --timecode-type <type>         ABSOLUTE or RELATIVE: how the MKV's cluster timecodes are read
                                 (default: RELATIVE, relative to the producer start timestamp)
  --producer-start-timestamp <s> the producer start time in epoch seconds (default: now)
  --ack-timeout <s>              give up when no acknowledgement comes for this many seconds while
                                 one is due (default: 30)
  --quiet                        print only errors
  -h, --help                     this help
  --version                      the version of this tool

Credentials come from the standard AWS chain (environment, profile, SSO, instance role).
The caller needs kinesisvideo:GetDataEndpoint and kinesisvideo:PutMedia on the stream
(VideoStream.grantWrite grants them).

Exit codes:
  0  every fragment of the whole input (every MKV Cluster, by its timecode) was sent and
     acknowledged PERSISTED
  1  usage error (unknown flag, missing --stream, unreadable file), or an input that is not an
     MKV (empty, or not starting with the EBML header: refused before any request; or holding
     no Cluster)
  2  AWS error before streaming (GetDataEndpoint: stream not found, access denied, no credentials,
     no Region)
  3  HTTP error from PutMedia (for example 403 access denied, 404 stream not found), or the
     connection failed before PutMedia answered
  4  an ERROR acknowledgement: the error id, its name and what it means are printed
  5  not every fragment was acknowledged PERSISTED: PutMedia ended its response or the connection
     closed before the whole input was sent or acknowledged, no acknowledgement came within
     --ack-timeout, or the input stopped being an MKV put-media can follow part way; the
     fragments left are printed
  6  protocol error: PutMedia sent something that is not a JSON acknowledgement
  7  the MKV has a fragment (Cluster) that does not start with a keyframe, or frames before its
     start (open-GOP B-frames): sending stops there; fragments before it were sent
`;

interface Args {
  stream?: string;
  file?: string;
  region?: string;
  timecodeType: 'ABSOLUTE' | 'RELATIVE';
  producerStartTimestamp: number;
  ackTimeoutMs: number;
  quiet: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { timecodeType: 'RELATIVE', producerStartTimestamp: Date.now() / 1000, ackTimeoutMs: 30_000, quiet: false, help: false };
  const value = (i: number, flag: string) => flagValue(argv, i, flag);
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
          throw new CliError(EXIT.USAGE, `--timecode-type must be ABSOLUTE or RELATIVE, got ${JSON.stringify(v)}`);
        }
        args.timecodeType = v;
        break;
      }
      case '--producer-start-timestamp': {
        const v = Number(value(i++, arg));
        if (!Number.isFinite(v) || v < 0) {
          throw new CliError(EXIT.USAGE, '--producer-start-timestamp must be epoch seconds, for example 1700000000.5');
        }
        args.producerStartTimestamp = v;
        break;
      }
      case '--ack-timeout': {
        const v = Number(value(i++, arg));
        if (!Number.isFinite(v) || v <= 0) {
          throw new CliError(EXIT.USAGE, '--ack-timeout must be a number of seconds above 0, for example 30');
        }
        args.ackTimeoutMs = v * 1000;
        break;
      }
      case '--quiet':
        args.quiet = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') {
          throw new CliError(EXIT.USAGE, `unknown flag ${arg} (see --help)`);
        }
        if (args.file !== undefined) {
          throw new CliError(EXIT.USAGE, `one input only, got ${args.file} and ${arg}`);
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

/**
 * The package's version: package.json two folders up from the bundle (assets/cli/index.js) or
 * from this source file (lib/cli/index.ts); the nearest package.json of this package otherwise.
 */
export function version(): string {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'cdk-face-stream-pipeline' && typeof pkg.version === 'string') {
        return pkg.version;
      }
    } catch {
      // not here: one folder up
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  // The bundled SDK is pinned, so its notice that later SDK releases need Node 22 is noise here
  // (set before any client is made; a value the user set is kept).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || (command === 'put-media' && rest.includes('--version'))) {
    process.stdout.write(`cdk-face-stream-pipeline ${version()}\n`);
    return EXIT.OK;
  }
  if (command === '-h' || command === '--help' || command === undefined) {
    process.stdout.write(HELP);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (command === 'follow') {
    const { follow } = await import('./sdk');
    return follow(rest);
  }
  if (command === 'enrol' || command === 'enroll') {
    const { enrol } = await import('./enrol');
    return enrol(rest);
  }
  if (command !== 'put-media') {
    process.stderr.write(`error: unknown command ${JSON.stringify(command)}; the commands are put-media, follow and enrol (see --help)\n`);
    return EXIT.USAGE;
  }
  return putMediaCommand(rest);
}

async function putMediaCommand(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
    if (args.help) {
      process.stdout.write(HELP);
      return EXIT.OK;
    }
    if (!args.stream) {
      throw new CliError(EXIT.USAGE, '--stream is required: the name or ARN of the Kinesis video stream');
    }
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return (error as CliError).exitCode ?? EXIT.USAGE;
  }
  const fromStdin = !args.file || args.file === '-';
  let total: number | undefined;
  if (!fromStdin) {
    try {
      total = statSync(args.file!).size;
    } catch (error) {
      process.stderr.write(`error: cannot read ${args.file}: ${(error as Error).message}\n`);
      return EXIT.USAGE;
    }
  }
  const nl = () => (process.stderr.isTTY && !args.quiet ? '\n' : '');
  try {
    const { putMedia } = await import('./put-media');
    const result = await putMedia({
      stream: args.stream,
      ...(fromStdin ? { input: process.stdin } : { file: args.file }),
      region: args.region,
      timecodeType: args.timecodeType,
      producerStartTimestamp: args.producerStartTimestamp,
      ackTimeoutMs: args.ackTimeoutMs,
      onProgress: progressPrinter(args.quiet, total),
      onWarning: (message) => process.stderr.write(`${nl()}warning: ${message}\n`),
    });
    if (!args.quiet) {
      process.stderr.write(`${nl()}done: ${result.bytesSent} bytes sent, ${result.fragmentsPersisted} fragments persisted\n`);
    }
    return EXIT.OK;
  } catch (error) {
    const e = error as CliError;
    process.stderr.write(`${nl()}error: ${e.message}\n`);
    return e.exitCode ?? EXIT.AWS;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
