/**
 * The Region and the boolean settings as a KinesisVideoClient reads them from the environment
 * alone, written here so that put-media's common path (Region and credentials in the environment,
 * no shared config file) loads none of the SDK's configuration modules: @smithy/core/config would
 * bring its shared-file readers, node:fs/promises and @smithy/core/transport to check one host
 * label. The rules are the SDK's (resolveRegionConfig, booleanSelector); test/cli-aws.test.ts
 * compares the outcome with a KinesisVideoClient's, case by case.
 */

/** A variable the SDK reads as a boolean: undefined when unset; only "true" and "false" are accepted. */
export function envBoolean(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  if (!(name in env)) {
    return undefined;
  }
  const value = env[name];
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  throw new Error(`Cannot load env "${name}". Expected "true" or "false", got ${value}.`);
}

/** A pseudo-Region that selects the FIPS endpoint, such as fips-us-east-1 or us-gov-west-1-fips. */
const isFipsRegion = (region: string): boolean => region.startsWith('fips-') || region.endsWith('-fips');

/** One DNS label: letters, digits and hyphens, 1-63 characters, no hyphen first or last. */
const HOST_LABEL = /^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/;

/**
 * A Region config as the SDK resolves it: region() is the real Region of a FIPS pseudo-Region, and
 * must be one host label; useFipsEndpoint() is true for a FIPS pseudo-Region, else the setting.
 * Throws "Region is missing" at once for a missing or empty Region given as a string (--region ""),
 * as the client's constructor does; a Region read later (`provide`) is checked only when read.
 */
export function regionConfig(provide: string | (() => string), useFipsEndpoint: boolean): { region(): Promise<string>; useFipsEndpoint(): Promise<boolean> } {
  if (!provide) {
    throw new Error('Region is missing');
  }
  const read = typeof provide === 'string' ? () => provide : provide;
  return {
    region: async () => {
      const region = read();
      const real = isFipsRegion(region)
        ? ['fips-aws-global', 'aws-fips'].includes(region) ? 'us-east-1' : region.replace(/fips-(dkr-|prod-)?|-fips/, '')
        : region;
      if (!HOST_LABEL.test(real)) {
        if (real !== '*') {
          throw new Error(`Region not accepted: region="${real}" is not a valid hostname component.`);
        }
        console.warn('@smithy/config-resolver WARN - Please use the caller region instead of "*". See "sigv4a" in https://github.com/aws/aws-sdk-js-v3/blob/main/supplemental-docs/CLIENTS.md.');
      }
      return real;
    },
    useFipsEndpoint: async () => isFipsRegion(read()) || useFipsEndpoint,
  };
}

/** The Region and endpoint settings of Kinesis Video Streams requests, as a KinesisVideoClient resolves them. */
export interface AwsSettings {
  readonly region: string;
  readonly useFipsEndpoint: boolean;
  readonly useDualstackEndpoint: boolean;
  /** An endpoint URL configured for Kinesis Video (environment or profile). */
  readonly configuredEndpoint?: string;
}

/**
 * The settings from a resolved Region config (the environment's, or the shared config files'):
 * undefined when the Region cannot be resolved or is empty; the other settings read only then.
 */
export async function settingsOf(
  resolved: { region(): Promise<string>; useFipsEndpoint(): Promise<boolean> },
  rest: () => Promise<Pick<AwsSettings, 'useDualstackEndpoint' | 'configuredEndpoint'>>,
): Promise<AwsSettings | undefined> {
  let region: string;
  try {
    region = await resolved.region();
  } catch {
    return undefined;
  }
  if (!region) {
    return undefined;
  }
  const useFipsEndpoint = await resolved.useFipsEndpoint();
  return { region, useFipsEndpoint, ...(await rest()) };
}
