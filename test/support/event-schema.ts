/** The README's JSON Schema of face event details, and a minimal checker of it (no schema library needed). */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** A minimal JSON Schema check (type, const, enum, oneOf, required, properties, additionalProperties: false, items, minimum, maximum, minLength, maxLength, $ref, date-time). */
export function check(schema: any, value: unknown, root: any, at = '$'): string[] {
  if (schema.$ref) return check(root.$defs[schema.$ref.replace('#/$defs/', '')], value, root, at);
  const errors: string[] = [];
  if (schema.const !== undefined && value !== schema.const) errors.push(`${at}: expected ${schema.const}`);
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: expected one of ${schema.enum.join(', ')}`);
  if (schema.oneOf && schema.oneOf.filter((s: any) => check(s, value, root, at).length === 0).length !== 1) errors.push(`${at}: expected exactly one of ${JSON.stringify(schema.oneOf)}`);
  const type = schema.type;
  const typeOk =
    type === undefined ||
    (type === 'object' && typeof value === 'object' && value !== null && !Array.isArray(value)) ||
    (type === 'array' && Array.isArray(value)) ||
    (type === 'string' && typeof value === 'string') ||
    (type === 'number' && typeof value === 'number') ||
    (type === 'integer' && Number.isInteger(value)) ||
    (type === 'boolean' && typeof value === 'boolean');
  if (!typeOk) return [`${at}: expected ${type}, got ${JSON.stringify(value)}`];
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: above ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (schema.format === 'date-time' && !(typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value))) errors.push(`${at}: not a date-time`);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const key of schema.required ?? []) if (!(key in (value as object))) errors.push(`${at}.${key}: required`);
    for (const [key, sub] of Object.entries(schema.properties ?? {})) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) errors.push(...check(sub, v, root, `${at}.${key}`));
    }
    if (schema.additionalProperties === false) {
      for (const key of Object.keys(value as object)) if (!(key in (schema.properties ?? {}))) errors.push(`${at}.${key}: not allowed`);
    }
  }
  if (type === 'array' && schema.items) (value as unknown[]).forEach((v, i) => errors.push(...check(schema.items, v, root, `${at}[${i}]`)));
  return errors;
}

export function readmeSchema(): any {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Face events'));
  const json = /```json\n([\s\S]*?)\n```/.exec(section)![1];
  return JSON.parse(json);
}
