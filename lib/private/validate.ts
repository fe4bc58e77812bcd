import { Token } from 'aws-cdk-lib';

/** Names accepted by Rekognition for stream processors and collections. */
export const REKOGNITION_NAME = /^[a-zA-Z0-9_.\-]+$/;

function show(value: unknown): string {
  return JSON.stringify(value);
}

/** Throws when a concrete (non-token) string breaks the pattern or length range. */
export function validateName(prop: string, value: string | undefined, min: number, max: number, pattern: RegExp, allowed: string): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (value.length < min || value.length > max || !pattern.test(value)) {
    throw new Error(`${prop} must be ${min}-${max} characters of ${allowed}, got ${show(value)} (${value.length} characters)`);
  }
}

/** Throws when a concrete (non-token) number is outside [min, max] or not an integer when asked. */
export function validateNumber(prop: string, value: number | undefined, min: number, max: number, integer = false): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`${prop} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${String(value)}`);
  }
}
