/**
 * The AWS SDK code the CLI needs only on some paths: the follow command (the Kinesis client) and
 * the SDK's default credential chain (profiles, SSO, process, web identity, container and instance
 * credentials, with the STS and SSO clients they use). index.ts and aws.ts import this module only
 * when they need one of them, so a put-media run whose credentials are in the environment loads
 * none of it; each part is imported from here only when called, and a build may put this module
 * (with what it imports) in a file of its own.
 */
import type { AwsCredentialIdentity } from '@smithy/types';

/** `cdk-face-stream-pipeline follow` (lib/cli/follow.ts, with the Kinesis client). */
export async function follow(argv: string[]): Promise<number> {
  const command = await import('./follow');
  return command.follow(argv);
}

/** Credentials from the SDK's default chain, as a client in `region` would get them. */
export async function defaultCredentials(region: string): Promise<AwsCredentialIdentity> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  // as a client passes its own configuration: the Region for the STS and SSO clients of the chain,
  // and a logger that prints nothing (the client's, whose warnings this CLI never printed)
  const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop };
  return defaultProvider({ parentClientConfig: { region }, logger })({ callerClientConfig: { region } } as never);
}

const noop = () => undefined;
