import * as path from 'node:path';

/** The repository's root folder. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The path of a program installed in the project's Python virtual environment by scripts/setup-tools.sh. */
export function venvBin(name: string): string {
  return path.join(REPO_ROOT, '.venv', 'bin', name);
}
