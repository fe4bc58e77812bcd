/**
 * The CLI's Kinesis Video Streams client. What put-media needs from AWS before it streams: the Region, credentials, and the PutMedia data
 * endpoint (GetDataEndpoint), without an SDK client. Loading an SDK v3 client (its protocol,
 * middleware, retry and schema code) costs more CPU than the whole upload; here every setting comes
 * from the same sources, in the same order, as the KinesisVideoClient's:
 * - Region: --region, else AWS_REGION, the shared config files (AWS_PROFILE) or instance metadata;
 *   FIPS pseudo-Regions (fips-us-east-1) and invalid names as the SDK reads them;
 * - endpoint: AWS_ENDPOINT_URL_KINESIS_VIDEO or AWS_ENDPOINT_URL, else endpoint_url in the profile
 *   (or its services section), unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS; else the Kinesis Video
 *   endpoint rules (partition, FIPS, dual-stack);
 * - credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN) when
 *   AWS_PROFILE is not set, as the SDK's chain takes them first; else the SDK's default chain
 *   (profile, SSO, process, web identity, container and instance metadata).
 * What the environment alone decides (no shared config file, a Region given by --region or
 * AWS_REGION, the keys in the environment) needs no SDK code, but for the partitions table when
 * no endpoint is configured; the rest is the SDK's own code, loaded only then: its shared config
 * file reader and partitions table (lib/cli/shared-config.ts), its credential chain
 * (lib/cli/sdk.ts). test/cli-aws.test.ts checks both against a KinesisVideoClient.
 * GetDataEndpoint is one small SigV4-signed request (lib/cli/sigv4.ts), retried as the SDK's
 * standard mode retries (3 attempts or AWS_MAX_ATTEMPTS; network errors, 5xx and throttling;
 * jittered exponential backoff).
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { IncomingMessage } from 'node:http';
import { AwsSettings, envBoolean, regionConfig, settingsOf } from './region';

export type { AwsSettings };
import { signedHeaders } from './sigv4';

const SIGNING_NAME = 'kinesisvideo';

/**
 * The Region, endpoint variants and configured endpoint, as a KinesisVideoClient (or the client of
 * `serviceId`, the SDK's service id, e.g. 'S3') resolves them; undefined when there is no Region
 * (or it is not a valid host name). Throws "Region is missing" for an empty --region, as the
 * client's constructor does.
 */
export async function resolveSettings(regionFlag: string | undefined, serviceId = 'Kinesis Video'): Promise<AwsSettings | undefined> {
  const env = process.env;
  if ((regionFlag === undefined && env.AWS_REGION === undefined) || sharedConfigFilesExist(env)) {
    // a Region from the profile or instance metadata, or settings the profile may change
    return (await import('./shared-config')).sharedConfigSettings(regionFlag, serviceId);
  }
  // no shared config file: what the SDK reads is the environment, each setting falling back to its
  // default where the variable is not set or not valid
  const flag = (name: string): boolean | undefined => {
    try {
      return envBoolean(env, name);
    } catch {
      return undefined;
    }
  };
  const resolved = regionConfig(regionFlag ?? (() => env.AWS_REGION!), flag('AWS_USE_FIPS_ENDPOINT') ?? false);
  return settingsOf(resolved, async () => {
    const serviceEndpoint = env[`AWS_ENDPOINT_URL_${serviceId.toUpperCase().replace(/ /g, '_')}`];
    const endpoint = flag('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS') ? undefined : serviceEndpoint || env.AWS_ENDPOINT_URL || undefined;
    return { useDualstackEndpoint: flag('AWS_USE_DUALSTACK_ENDPOINT') ?? false, ...(endpoint !== undefined ? { configuredEndpoint: endpoint } : {}) };
  });
}

/** Whether the shared config or credentials file is there, found as the SDK finds them. */
function sharedConfigFilesExist(env: NodeJS.ProcessEnv): boolean {
  const home = () => env.HOME || env.USERPROFILE || (env.HOMEPATH ? `${env.HOMEDRIVE ?? `C:${sep}`}${env.HOMEPATH}` : homedir());
  const resolve = (file: string) => (file.startsWith('~/') ? join(home(), file.slice(2)) : file);
  const config = resolve(env.AWS_CONFIG_FILE || join(home(), '.aws', 'config'));
  const credentials = resolve(env.AWS_SHARED_CREDENTIALS_FILE || join(home(), '.aws', 'credentials'));
  return statSync(config, { throwIfNoEntry: false }) !== undefined || statSync(credentials, { throwIfNoEntry: false }) !== undefined;
}

/**
 * The Kinesis Video Streams control-plane endpoint (where GetDataEndpoint goes), as the
 * KinesisVideoClient's endpoint rules give it: a configured endpoint as it is, else the endpoint
 * of the Region's partition.
 */
export async function controlPlaneEndpoint(settings: AwsSettings): Promise<string> {
  const { region, useFipsEndpoint: fips, useDualstackEndpoint: dualStack, configuredEndpoint } = settings;
  if (configuredEndpoint !== undefined) {
    if (fips) {
      throw new AwsRequestError('EndpointError', 'Invalid Configuration: FIPS and custom endpoint are not supported');
    }
    if (dualStack) {
      throw new AwsRequestError('EndpointError', 'Invalid Configuration: Dualstack and custom endpoint are not supported');
    }
    // as the SDK passes it to the rules: protocol, host, port and path
    const url = new URL(configuredEndpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  }
  const p = (await import('./shared-config')).partition(region);
  if (fips && dualStack) {
    if (p.supportsFIPS && p.supportsDualStack) {
      return `https://${SIGNING_NAME}-fips.${region}.${p.dualStackDnsSuffix}/`;
    }
    throw new AwsRequestError('EndpointError', 'FIPS and DualStack are enabled, but this partition does not support one or both');
  }
  if (fips) {
    if (p.supportsFIPS) {
      return `https://${SIGNING_NAME}-fips.${region}.${p.dnsSuffix}/`;
    }
    throw new AwsRequestError('EndpointError', 'FIPS is enabled but this partition does not support FIPS');
  }
  if (dualStack) {
    if (p.supportsDualStack) {
      return `https://${SIGNING_NAME}.${region}.${p.dualStackDnsSuffix}/`;
    }
    throw new AwsRequestError('EndpointError', 'DualStack is enabled but this partition does not support DualStack');
  }
  return `https://${SIGNING_NAME}.${region}.${p.dnsSuffix}/`;
}

/**
 * Credentials from the standard chain. The environment's keys are taken without the SDK when the
 * chain would take them (it does first, unless AWS_PROFILE is set); anything else is the SDK's
 * default chain.
 */
export async function resolveCredentials(region: string): Promise<AwsCredentialIdentity> {
  const env = process.env;
  if (!env.AWS_PROFILE && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return (await import('./sdk')).defaultCredentials(region);
}

/** A failed AWS request, named as the SDK names it (the service's error type, or the Node error). */
export class AwsRequestError extends Error {
  constructor(name: string, message: string, public readonly status?: number, public readonly code?: string) {
    super(message);
    this.name = name;
  }
}

const THROTTLING = new Set([
  'BandwidthLimitExceeded', 'EC2ThrottledException', 'LimitExceededException', 'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException',
  'SlowDown', 'ThrottledException', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'TransactionInProgressException',
]);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** The SDK's default, or AWS_MAX_ATTEMPTS (the shared config file's max_attempts is not read). */
const maxAttempts = () => Math.max(1, Number.parseInt(process.env.AWS_MAX_ATTEMPTS ?? '', 10) || 3);

const isThrottling = (e: AwsRequestError) => e.status === 429 || THROTTLING.has(e.name);
const isRetryable = (e: AwsRequestError) =>
  isThrottling(e) || TRANSIENT_NAMES.has(e.name) || TRANSIENT_STATUS.has(e.status ?? 0) || NETWORK_CODES.has(e.code ?? '');

export interface JsonRequest {
  readonly endpoint: string;
  readonly path: string;
  readonly body: unknown;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
}

/**
 * A REST-JSON operation of Kinesis Video Streams (POST `path`, a JSON body in and out), signed for
 * `kinesisvideo`; retried on network errors, 5xx and throttling as the SDK's standard mode does.
 */
export async function kinesisVideoJson<T>(request: JsonRequest): Promise<T> {
  return withRetries(() => sendJson<T>(request));
}

/** `send` retried on network errors, 5xx and throttling (an AwsRequestError), as the SDK's standard mode retries. */
export async function withRetries<T>(send: () => Promise<T>): Promise<T> {
  const attempts = maxAttempts();
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const e = error as AwsRequestError;
      if (attempt >= attempts || !isRetryable(e)) {
        throw e;
      }
      const base = isThrottling(e) ? 500 : 100;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20_000, base * 2 ** (attempt - 1))));
    }
  }
}

async function sendJson<T>({ endpoint, path, body, region, credentials }: JsonRequest): Promise<T> {
  const url = new URL(endpoint);
  const payload = JSON.stringify(body);
  // the operation's path after the endpoint's, as the SDK joins them (a base path ending in / gives //)
  const requestPath = url.pathname === '/' ? path : `${url.pathname}${path}`;
  const headers = signedHeaders({
    method: 'POST',
    path: requestPath,
    headers: {
      'host': url.host,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      'user-agent': `cdk-face-stream-pipeline-cli node/${process.version}`,
    },
    body: payload,
    region,
    service: SIGNING_NAME,
    credentials,
  });
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port || undefined,
      path: requestPath,
      headers,
    }, resolve);
    req.on('error', (error: NodeJS.ErrnoException) => reject(new AwsRequestError(error.name, error.message, undefined, error.code)));
    req.end(payload);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) {
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  // as the SDK deserialises: an empty body is {}, a body that is not JSON a SyntaxError
  let parsed: any = {};
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AwsRequestError('SyntaxError', (error as Error).message, status);
    }
  }
  if (status >= 200 && status < 300) {
    return parsed as T;
  }
  // the error's name: x-amzn-errortype, else __type or code in the body (namespace and details cut)
  const type = [res.headers['x-amzn-errortype'], parsed?.__type, parsed?.code].find((v) => typeof v === 'string' && v) as string | undefined;
  const name = type ? type.split(':')[0].split('#').pop()! : 'Unknown';
  const message = parsed?.message ?? parsed?.Message ?? 'UnknownError';
  throw new AwsRequestError(name, String(message), status);
}
