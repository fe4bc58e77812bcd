import { Token } from 'aws-cdk-lib';
import { EXTERNAL_IMAGE_ID_RULE } from '../enrollment-settings';

/** Names accepted by Rekognition for stream processors and collections. */
export const REKOGNITION_NAME = /^[a-zA-Z0-9_.\-]+$/;

/** What a name may be: its length and characters, and how to say so in an error. */
export interface NameRule {
  readonly min: number;
  readonly max: number;
  readonly pattern: RegExp;
  readonly allowed: string;
}

/** A camera name: it names the camera's resources and appears in every face event. */
export const CAMERA_NAME: NameRule = { min: 1, max: 64, pattern: REKOGNITION_NAME, allowed: '[a-zA-Z0-9_.-]' };
/** A Rekognition stream processor name. */
export const PROCESSOR_NAME: NameRule = { min: 1, max: 128, pattern: REKOGNITION_NAME, allowed: '[a-zA-Z0-9_.-]' };
/** A Rekognition collection id. */
export const COLLECTION_ID: NameRule = { min: 1, max: 255, pattern: REKOGNITION_NAME, allowed: '[a-zA-Z0-9_.-]' };
/** A Rekognition ExternalImageId (the person of an enrolled face). */
export const EXTERNAL_IMAGE_ID: NameRule = EXTERNAL_IMAGE_ID_RULE;

/** Longest part of a value an error message echoes. */
const SHOWN = 40;

/** A value as an error message shows it: JSON, cut to its first characters when long. */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > SHOWN ? `${text.slice(0, SHOWN - 3)}..." (cut)` : text;
}

/** Throws when a concrete (non-token) string breaks the rule. */
export function validateName(prop: string, value: string | undefined, rule: NameRule): void {
  if (value === undefined || Token.isUnresolved(value)) {
    return;
  }
  if (value.length < rule.min || value.length > rule.max || !rule.pattern.test(value)) {
    throw new Error(`${prop} must be ${rule.min}-${rule.max} characters of ${rule.allowed}, got ${show(value)} (${value.length} characters)`);
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
