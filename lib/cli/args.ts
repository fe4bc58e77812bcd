import { EXIT, CliError } from './exit';

/** The value after the flag at `argv[i]`, or a usage error naming the flag. */
export function flagValue(argv: string[], i: number, flag: string): string {
  const value = argv[i + 1];
  if (value === undefined) {
    throw new CliError(EXIT.USAGE, `${flag} needs a value`);
  }
  return value;
}
