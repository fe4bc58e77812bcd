import * as path from 'node:path';

/** The repository's root folder. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The path of a program installed in the project's Python virtual environment by scripts/setup-tools.sh. */
export function venvBin(name: string, venv = '.venv'): string {
  return path.join(REPO_ROOT, venv, 'bin', name);
}

/** The path of cfn-lint, checkov or moto_server: `.venv-checks` (requirements-checks.txt), apart from Debian's python3-* packages. */
export function checksBin(name: string): string {
  return venvBin(name, '.venv-checks');
}
