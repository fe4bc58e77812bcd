import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** This package's version, read from its package.json (lib/private/ -> the package root). */
export const LIBRARY_VERSION: string = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
