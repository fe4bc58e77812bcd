/**
 * The SDK's own readers of the shared config files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE,
 * AWS_PROFILE) and of its partitions table, for the settings the environment alone does not decide
 * (lib/cli/kvs-client.ts imports this module only then; the build makes it a file of its own,
 * assets/cli/shared-config.js). Small: the heavy SDK code (clients, the credential chain) is in
 * lib/cli/sdk.ts.
 */
import { partition } from '@aws-sdk/core/client';
import {
  booleanSelector,
  CONFIG_PREFIX_SEPARATOR,
  loadConfig,
  NODE_REGION_CONFIG_FILE_OPTIONS,
  NODE_REGION_CONFIG_OPTIONS,
  NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
  NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS,
  resolveRegionConfig,
  SelectorType,
} from '@smithy/core/config';
import { settingsOf, type AwsSettings } from './region';

export { partition };

/** Kinesis Video Streams' service id: AWS_ENDPOINT_URL_KINESIS_VIDEO, services section key kinesis_video. */
const KINESIS_VIDEO = 'Kinesis Video';

/**
 * The Region, endpoint variants and configured endpoint as a KinesisVideoClient (or the client of
 * `serviceId`, e.g. 'S3') reads them from the environment, the shared config files (AWS_PROFILE)
 * and, for the Region, instance metadata. Throws "Region is missing" for an empty --region, as the
 * client's constructor does.
 */
export async function sharedConfigSettings(regionFlag: string | undefined, serviceId: string = KINESIS_VIDEO): Promise<AwsSettings | undefined> {
  const resolved = resolveRegionConfig({
    region: regionFlag ?? loadConfig(NODE_REGION_CONFIG_OPTIONS, { ...NODE_REGION_CONFIG_FILE_OPTIONS }),
    useFipsEndpoint: loadConfig(NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS),
  });
  return settingsOf(resolved, async () => ({
    useDualstackEndpoint: await loadConfig(NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS)(),
    configuredEndpoint: await configuredEndpoint(serviceId),
  }));
}

/**
 * An endpoint URL set for the service (its SDK service id) in the environment or the shared config
 * files, as the SDK's getEndpointFromConfig reads it (which @smithy/core does not export).
 */
async function configuredEndpoint(serviceId: string): Promise<string | undefined> {
  const ignore = await loadConfig<boolean>({
    environmentVariableSelector: (env) => booleanSelector(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', SelectorType.ENV),
    configFileSelector: (profile) => booleanSelector(profile, 'ignore_configured_endpoint_urls', SelectorType.CONFIG),
    default: false,
  })();
  if (ignore) {
    return undefined;
  }
  return loadConfig<string | undefined>({
    environmentVariableSelector: (env) => env[`AWS_ENDPOINT_URL_${serviceId.toUpperCase().replace(/ /g, '_')}`] || env.AWS_ENDPOINT_URL || undefined,
    configFileSelector: (profile, file) => {
      if (profile.services) {
        const key = ['services', profile.services].join(CONFIG_PREFIX_SEPARATOR);
        const section = file?.[key];
        if (!section) {
          throw new Error(`The services section "${profile.services}" specified in the profile is not present in the shared configuration file.`);
        }
        const url = section[[serviceId.toLowerCase().replace(/ /g, '_'), 'endpoint_url'].join(CONFIG_PREFIX_SEPARATOR)];
        if (url) {
          return url;
        }
      }
      return profile.endpoint_url || undefined;
    },
    default: undefined,
  })();
}
