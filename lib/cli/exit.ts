/** The CLI's exit codes and the error that carries one (shared by every command, each number meaning one thing; no dependencies). */
export const EXIT = {
  OK: 0,
  USAGE: 1,
  AWS: 2,
  HTTP: 3,
  ACK_ERROR: 4,
  /** Not every fragment sent was acknowledged PERSISTED: the response ended, the connection failed or no acknowledgement came in time. */
  NOT_PERSISTED: 5,
  /** PutMedia answered with something that is not an acknowledgement. */
  PROTOCOL: 6,
  /** The MKV breaks a rule of fragments the service does not report: a fragment not starting with a keyframe, or frames before its start. */
  INVALID_MEDIA: 7,
  /** enrol: the snapshot or picture to enrol was not found. */
  NOT_FOUND: 8,
  /** enrol: the enrolment function refused the picture (its reason is printed). */
  REFUSED: 9,
  /** enrol: the picture was stored, but no outcome came within --timeout. */
  TIMEOUT: 10,
} as const;

/** A failure of any CLI command (put-media, follow, flag parsing) with the exit code the CLI reports it under. */
export class CliError extends Error {
  constructor(public readonly exitCode: number, message: string, public readonly errorId?: number) {
    super(message);
  }
}

/** Where no Region was found: every command says the same. */
export const NO_REGION = 'no AWS Region: pass --region <region>, or set AWS_REGION (or a region in your AWS profile)';
