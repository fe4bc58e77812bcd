/**
 * Would IAM allow it? Every request the local servers received (request-log.ts) is turned into the
 * authorization requests AWS makes of it (action, resource ARN, the condition keys the policies
 * here use) and evaluated with @cloud-copilot/iam-simulate against what the synthesized app gives
 * the caller (iam-deployment.ts):
 * - the caller's role's identity policies, and the resource's own policy (queue, bucket, key);
 * - the KMS calls a service makes with the caller's credentials for a resource encrypted with a
 *   customer-managed key (SQS, DynamoDB, Kinesis, Kinesis Video Streams, S3), checked against the
 *   role's policies and the key's policy, with kms:ViaService and the service's encryption context;
 * - what a service does with a role the caller passes (CreateStreamProcessor's RoleArn): the caller's
 *   iam:PassRole (iam:PassedToService), the role's trust policy for the service (aws:SourceArn,
 *   aws:SourceAccount) and the service's own calls as that role (GetMedia, PutRecords).
 *
 * `checkIam(...)` in a test file evaluates after each test what that test's requests asked for; a
 * denied call fails the test with the action, the resource and the statement that is missing.
 */
import { getDenialReasons, runSimulation, runUnsafeSimulation, Simulation } from '@cloud-copilot/iam-simulate';
import { DeployedResource, Deployment, NamedPolicy, PolicyDocument } from './iam-deployment';
import { ReceivedRequest, takeReceivedRequests } from './request-log';

export interface AuthorizationRequest {
  /** The role (or service principal) asking. */
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
  /** Why it is asked: the request it came from. */
  readonly origin: string;
}

export type Principal = { readonly role: DeployedResource } | { readonly service: string };

export interface Denial {
  readonly request: AuthorizationRequest;
  readonly result: string;
  readonly missing: string;
}

const SIGNED = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;
const PRESIGNED = /^([A-Z0-9]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request$/;

/** One signed request as AWS reads it before authorizing: who, which service, which API call, its parameters. */
interface ApiCall {
  readonly accessKey: string;
  readonly region: string;
  readonly service: string;
  readonly operation: string;
  readonly params: Record<string, any>;
  readonly describe: string;
}

/** The API call a received request is, or undefined for one that is not signed (the fakes refuse those). */
export function apiCall(req: ReceivedRequest): ApiCall | undefined {
  // a presigned URL (query-string SigV4) is the signer's call, made by whoever holds the URL
  const presigned = PRESIGNED.exec(new URL(req.url, 'http://localhost').searchParams.get('X-Amz-Credential') ?? '');
  const auth = SIGNED.exec(String(req.headers.authorization ?? '')) ?? presigned;
  if (!auth) return undefined;
  const [, accessKey, region, service] = auth;
  const target = req.headers['x-amz-target'];
  const text = req.body().toString('utf8');
  const json = () => {
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      // a body cut by the request log (a message near SQS's 1 MiB): the names come first, as the SDK writes them
      const names: Record<string, string> = {};
      for (const m of text.matchAll(/"(QueueUrl|TableName|StreamName|StreamARN|CollectionId|EventBusName|Name)":"([^"]*)"/g)) names[m[1]] ??= m[2];
      return names;
    }
  };
  let operation: string;
  let params: Record<string, any> = {};
  if (service === 'sns') {
    // the query protocol: a form body, Action=Publish&TopicArn=...
    const form = new URLSearchParams(text);
    operation = form.get('Action') ?? '';
    params = Object.fromEntries(form);
  } else if (typeof target === 'string') {
    operation = target.split('.').pop()!;
    params = json();
  } else if (service === 's3') {
    const url = new URL(req.url, 'http://localhost');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const version = url.searchParams.has('versionId') ? 'Version' : '';
    const sub = url.searchParams.has('tagging') ? 'Tagging' : '';
    const verb = { GET: 'Get', HEAD: 'Head', PUT: 'Put', DELETE: 'Delete' }[req.method] ?? req.method;
    operation = key ? `${verb}Object${version}${sub}` : `${verb}Bucket`;
    params = { Bucket: bucket, Key: key };
    const copySource = req.headers['x-amz-copy-source'];
    if (operation === 'PutObject' && typeof copySource === 'string') {
      // CopyObject: s3:PutObject on the copy, s3:GetObject (or GetObjectVersion) on the source
      const [path, query] = copySource.split('?');
      const [, sourceBucket, ...sourceKey] = decodeURIComponent(path.startsWith('/') ? path : `/${path}`).split('/');
      operation = 'CopyObject';
      params = { ...params, CopySource: { Bucket: sourceBucket, Key: sourceKey.join('/'), versioned: new URLSearchParams(query ?? '').has('versionId') } };
    }
    if (operation === 'GetBucket' && url.searchParams.get('list-type') === '2') {
      operation = 'ListObjectsV2';
      params = { ...params, Prefix: url.searchParams.get('prefix') ?? '', Delimiter: url.searchParams.get('delimiter') ?? undefined };
    }
    for (const header of ['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id', 'x-amz-server-side-encryption-customer-algorithm']) {
      if (typeof req.headers[header] === 'string') params[`s3:${header}`] = req.headers[header];
    }
  } else if (service === 'lambda') {
    // REST-JSON: POST /2015-03-31/functions/<name or ARN>/invocations (Invoke, authorized as lambda:InvokeFunction)
    const [, , , name, what] = new URL(req.url, 'http://localhost').pathname.split('/');
    operation = what === 'invocations' ? 'Invoke' : what ?? '';
    params = { FunctionName: decodeURIComponent(name ?? '') };
  } else {
    // REST-JSON (Kinesis Video Streams): /putMedia, /getDataEndpoint, ... with the stream in the body or headers
    const path = new URL(req.url, 'http://localhost').pathname.split('/').pop() ?? '';
    operation = path.charAt(0).toUpperCase() + path.slice(1);
    params = operation === 'PutMedia' ? { StreamName: req.headers['x-amzn-stream-name'], StreamARN: req.headers['x-amzn-stream-arn'] } : json();
  }
  return { accessKey, region, service, operation, params, describe: `${service} ${operation} ${req.method} ${req.url}` };
}

/** What a test file's callers are, by the access key their requests are signed with. */
export interface IamCheckOptions {
  /** The app as deployed (built once, on first use). */
  readonly deployment: () => Deployment;
  /** Access key id -> the role that key stands for (a function's role, or a user's). */
  readonly callers: Record<string, (d: Deployment) => DeployedResource>;
  /** Access keys of requests a test makes itself (to set up or inspect a fake), not evaluated. */
  readonly ignoreKeys?: string[];
}

/**
 * The authorization requests AWS makes for one API call of `role` (and, for calls that make a
 * service act on the caller's behalf, those the service's own calls).
 */
export function authorizationRequests(d: Deployment, role: DeployedResource, call: ApiCall): AuthorizationRequest[] {
  const { region } = call;
  const account = d.account;
  const p = call.params;
  const out: AuthorizationRequest[] = [];
  const principal: Principal = { role };
  const ask = (action: string, resource: string, context: Record<string, string | string[]> = {}, who: Principal = principal) =>
    out.push({ principal: who, action, resource, context, origin: call.describe });
  const service = call.service;
  const action = `${service}:${IAM_ACTION[`${service}:${call.operation}`] ?? call.operation}`;
  switch (service) {
    case 'dynamodb': {
      const tables: Array<[string, any[]]> = p.RequestItems
        ? Object.entries<any>(p.RequestItems).map(([t, v]) => [t, Array.isArray(v) ? v.map((w: any) => w.PutRequest?.Item ?? w.DeleteRequest?.Key) : v.Keys ?? []])
        : [[p.TableName, [p.Key ?? p.Item].filter(Boolean)]];
      for (const [table, items] of tables) {
        const arn = table.startsWith('arn:') ? table : `arn:aws:dynamodb:${region}:${account}:table/${table}`;
        const resource = d.resourceOf(arn);
        const hash = resource?.properties.KeySchema?.find((k: any) => k.KeyType === 'HASH')?.AttributeName;
        const leading = hash ? items.map((item) => Object.values<any>(item[hash] ?? {})[0]).filter((v) => v !== undefined).map(String) : [];
        ask(action, arn, leading.length > 0 ? { 'dynamodb:LeadingKeys': leading } : {});
        const write = !/^(Get|BatchGet|Query|Scan|Describe)/.test(call.operation);
        kmsOnBehalf(d, out, principal, call, resource, 'dynamodb', write ? ['kms:Decrypt'] : ['kms:Decrypt'], { 'kms:EncryptionContext:aws:dynamodb:tableName': table, 'kms:EncryptionContext:aws:dynamodb:subscriberId': account });
      }
      break;
    }
    case 'kinesis': {
      const name = p.StreamARN ? String(p.StreamARN).split('/').pop() : p.StreamName ?? lastStream.get(call.accessKey);
      if (name) lastStream.set(call.accessKey, name);
      const arn = p.StreamARN ?? `arn:aws:kinesis:${region}:${account}:stream/${name}`;
      ask(action, arn);
      const resource = d.resourceOf(arn);
      if (call.operation.startsWith('PutRecord')) kmsOnBehalf(d, out, principal, call, resource, 'kinesis', ['kms:GenerateDataKey'], { 'kms:EncryptionContext:aws:kinesis:arn': arn });
      if (call.operation === 'GetRecords') kmsOnBehalf(d, out, principal, call, resource, 'kinesis', ['kms:Decrypt'], { 'kms:EncryptionContext:aws:kinesis:arn': arn });
      break;
    }
    case 'sqs': {
      const [, queueAccount, queue] = new URL(String(p.QueueUrl)).pathname.split('/');
      const arn = `arn:aws:sqs:${region}:${queueAccount}:${queue}`;
      ask(action, arn);
      if (call.operation.startsWith('SendMessage')) kmsOnBehalf(d, out, principal, call, d.resourceOf(arn), 'sqs', ['kms:GenerateDataKey', 'kms:Decrypt'], { 'kms:EncryptionContext:aws:sqs:arn': arn });
      break;
    }
    case 'events': {
      for (const entry of p.Entries ?? []) {
        const bus = String(entry.EventBusName ?? 'default');
        const arn = bus.startsWith('arn:') ? bus : `arn:aws:events:${region}:${account}:event-bus/${bus}`;
        ask(action, arn, { 'events:source': String(entry.Source), 'events:detail-type': String(entry.DetailType) });
      }
      break;
    }
    case 'rekognition': {
      const collection = (id: string) => `arn:aws:rekognition:${region}:${account}:collection/${id}`;
      const processor = (name: string) => `arn:aws:rekognition:${region}:${account}:streamprocessor/${name}`;
      // CreateStreamProcessor is authorized on the collection it searches (AWS's service authorization reference)
      if (call.operation === 'CreateStreamProcessor') ask(action, collection(p.Settings?.FaceSearch?.CollectionId));
      else if (p.CollectionId) ask(action, collection(p.CollectionId));
      else if (p.ResourceArn) ask(action, p.ResourceArn);
      else if (p.Name) ask(action, processor(p.Name));
      else ask(action, '*');
      const image = p.Image?.S3Object;
      if (image) {
        // Rekognition reads the picture with the caller's credentials
        const object = `arn:aws:s3:::${image.Bucket}/${image.Name}`;
        ask(image.Version ? 's3:GetObjectVersion' : 's3:GetObject', object);
        kmsOnBehalf(d, out, principal, call, d.resourceOf(object), 's3', ['kms:Decrypt'], { 'kms:EncryptionContext:aws:s3:arn': object });
      }
      if (call.operation === 'CreateStreamProcessor') {
        ask('iam:PassRole', p.RoleArn, { 'iam:PassedToService': 'rekognition.amazonaws.com' });
        // what Rekognition then does as the role, for a processor this deployment has (role and
        // streams as the template gives them; a test's made-up combination is no deployment's)
        const deployed = d.resources('Custom::RekognitionStreamProcessor').find((r) => {
          const props = d.resolve(r.stack, r.properties);
          return props.RoleArn === p.RoleArn && props.KinesisVideoStreamArn === p.Input?.KinesisVideoStream?.Arn && props.KinesisDataStreamArn === p.Output?.KinesisDataStream?.Arn;
        });
        if (deployed) {
          const serviceRole = d.roleAt(deployed.stack, deployed.properties.RoleArn);
          out.push(...rekognitionServiceCalls(d, serviceRole, processor(p.Name), p.Input.KinesisVideoStream.Arn, p.Output.KinesisDataStream.Arn, call.describe));
        }
      }
      break;
    }
    case 'kinesisvideo': {
      const arn = p.StreamARN ?? d.videoStreamArn(String(p.StreamName)) ?? `arn:aws:kinesisvideo:${region}:${account}:stream/${p.StreamName}/0`;
      ask(action, arn);
      const resource = d.resourceOf(arn);
      if (call.operation === 'PutMedia') kmsOnBehalf(d, out, principal, call, resource, 'kinesisvideo', ['kms:GenerateDataKey'], { 'kms:EncryptionContext:aws:kinesisvideo:arn': arn });
      if (['GetMedia', 'GetImages', 'GetClip', 'GetMediaForFragmentList'].includes(call.operation)) {
        kmsOnBehalf(d, out, principal, call, resource, 'kinesisvideo', ['kms:Decrypt'], { 'kms:EncryptionContext:aws:kinesisvideo:arn': arn });
      }
      break;
    }
    case 'lambda': {
      const name = String(p.FunctionName);
      ask(action, name.startsWith('arn:') ? name : `arn:aws:lambda:${region}:${account}:function:${name}`);
      break;
    }
    case 's3': {
      const object = p.Key ? `arn:aws:s3:::${p.Bucket}/${p.Key}` : `arn:aws:s3:::${p.Bucket}`;
      // the encryption headers sent, as the condition keys of a PutObject (or the copy's)
      const sse = Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith('s3:x-amz-server-side-encryption'))) as Record<string, string>;
      if (call.operation === 'ListObjectsV2') {
        ask(action, object, { 's3:prefix': p.Prefix, ...(p.Delimiter !== undefined ? { 's3:delimiter': p.Delimiter } : {}) });
      } else if (call.operation === 'PutObject' || call.operation === 'CopyObject') {
        ask(action, object, sse);
      } else {
        ask(action, object);
      }
      if (call.operation === 'CopyObject') {
        const source = `arn:aws:s3:::${p.CopySource.Bucket}/${p.CopySource.Key}`;
        ask(p.CopySource.versioned ? 's3:GetObjectVersion' : 's3:GetObject', source);
        kmsOnBehalf(d, out, principal, call, d.resourceOf(source), 's3', ['kms:Decrypt'], { 'kms:EncryptionContext:aws:s3:arn': source });
      }
      if (call.operation === 'GetObject' || call.operation === 'GetObjectVersion') kmsOnBehalf(d, out, principal, call, d.resourceOf(object), 's3', ['kms:Decrypt'], { 'kms:EncryptionContext:aws:s3:arn': object });
      if (call.operation === 'PutObject' || call.operation === 'CopyObject') kmsOnBehalf(d, out, principal, call, d.resourceOf(object), 's3', ['kms:GenerateDataKey'], { 'kms:EncryptionContext:aws:s3:arn': object });
      break;
    }
    case 'sns': {
      const topic = String(p.TopicArn);
      ask(action, topic);
      // SNS encrypts the message with an encrypted topic's key, with the caller's credentials
      if (call.operation === 'Publish') kmsOnBehalf(d, out, principal, call, d.resourceOf(topic), 'sns', ['kms:GenerateDataKey', 'kms:Decrypt'], {});
      break;
    }
    default:
      throw new Error(`the IAM check does not know the service ${service} (${call.describe}): teach authorizationRequests its resources`);
  }
  return out;
}

/** API calls authorized as another action (AWS's service authorization reference). */
const IAM_ACTION: Record<string, string> = {
  'sqs:SendMessageBatch': 'SendMessage',
  'sqs:DeleteMessageBatch': 'DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'ChangeMessageVisibility',
  'lambda:Invoke': 'InvokeFunction',
  // HeadObject is authorized as GetObject, CopyObject as PutObject (plus GetObject on its source, above), ListObjectsV2 as ListBucket
  's3:HeadObject': 'GetObject',
  's3:HeadObjectVersion': 'GetObjectVersion',
  's3:CopyObject': 'PutObject',
  's3:ListObjectsV2': 'ListBucket',
};

/** GetRecords names no stream: it reads the one its iterator came from (the caller's last stream). */
const lastStream = new Map<string, string>();

/**
 * The KMS calls a service makes with the caller's credentials when the resource is encrypted with
 * a customer-managed key: kms:ViaService is the service's endpoint, the encryption context names
 * the resource.
 */
function kmsOnBehalf(
  d: Deployment,
  out: AuthorizationRequest[],
  principal: Principal,
  call: ApiCall,
  resource: DeployedResource | undefined,
  service: string,
  actions: string[],
  encryptionContext: Record<string, string>,
): void {
  const key = resource && d.encryptionKey(resource);
  if (!key) return;
  for (const action of actions) {
    out.push({
      principal,
      action,
      resource: key.arn,
      context: { 'kms:ViaService': `${service}.${call.region}.amazonaws.com`, 'kms:CallerAccount': d.account, ...encryptionContext },
      origin: `${call.describe} (${service} on the caller's behalf, key ${key.arn})`,
    });
  }
}

/**
 * What Rekognition does for a stream processor: assume the role (its trust policy, with the
 * confused-deputy keys), then read the video stream and write the data stream as that role.
 */
export function rekognitionServiceCalls(d: Deployment, role: DeployedResource, processorArn: string, videoArn: string, dataArn: string, origin: string): AuthorizationRequest[] {
  const as: Principal = { role };
  const region = processorArn.split(':')[3];
  const out: AuthorizationRequest[] = [
    { principal: { service: 'rekognition.amazonaws.com' }, action: 'sts:AssumeRole', resource: d.arn(role), context: { 'aws:SourceArn': processorArn, 'aws:SourceAccount': d.account }, origin: `${origin} (Rekognition assumes the role)` },
    { principal: as, action: 'kinesisvideo:GetDataEndpoint', resource: videoArn, context: {}, origin: `${origin} (Rekognition reads the video)` },
    { principal: as, action: 'kinesisvideo:GetMedia', resource: videoArn, context: {}, origin: `${origin} (Rekognition reads the video)` },
    { principal: as, action: 'kinesis:PutRecords', resource: dataArn, context: {}, origin: `${origin} (Rekognition writes the records)` },
  ];
  const fake: ApiCall = { accessKey: '', region, service: '', operation: '', params: {}, describe: origin };
  kmsOnBehalf(d, out, as, { ...fake, describe: `${origin} (Rekognition reads the video)` }, d.resourceOf(videoArn), 'kinesisvideo', ['kms:Decrypt'], { 'kms:EncryptionContext:aws:kinesisvideo:arn': videoArn });
  kmsOnBehalf(d, out, as, { ...fake, describe: `${origin} (Rekognition writes the records)` }, d.resourceOf(dataArn), 'kinesis', ['kms:GenerateDataKey'], { 'kms:EncryptionContext:aws:kinesis:arn': dataArn });
  return out;
}

/** The policies a request is evaluated against: the principal's, and the resource's (a key's, a queue's, a role's trust). */
function policiesFor(d: Deployment, request: AuthorizationRequest): { identity: NamedPolicy[]; resource?: PolicyDocument } {
  const identity = 'role' in request.principal ? d.identityPolicies(request.principal.role) : [];
  if (request.action === 'sts:AssumeRole') {
    const role = d.resources('AWS::IAM::Role').find((r) => d.arn(r) === request.resource)!;
    return { identity, resource: d.resolve(role.stack, role.properties.AssumeRolePolicyDocument) };
  }
  const target = request.resource.startsWith('arn:aws:kms:') ? d.resources('AWS::KMS::Key').find((k) => d.arn(k) === request.resource) : d.resourceOf(request.resource);
  return { identity, resource: target && d.resourcePolicy(target) };
}

/** Evaluates one request; a denial says what is missing. */
export async function evaluate(d: Deployment, request: AuthorizationRequest, override?: (policies: { identity: NamedPolicy[]; resource?: PolicyDocument }) => void): Promise<Denial | undefined> {
  const policies = policiesFor(d, request);
  override?.(policies);
  const principal = 'role' in request.principal ? d.arn(request.principal.role) : request.principal.service;
  const resourceAccount = request.resource.split(':')[4] || d.account;
  const simulation: Simulation = {
    request: { principal, action: request.action, resource: { resource: request.resource, accountId: resourceAccount }, contextVariables: request.context },
    identityPolicies: policies.identity.map((p) => ({ name: p.name, policy: p.policy })),
    resourcePolicy: policies.resource,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    return { request, result: 'SimulationError', missing: JSON.stringify(result.errors) };
  }
  // iam-simulate 0.1.173 knows kms:EncryptionContext:<key> but does not match a <key> with colons
  // (aws:sqs:arn), and drops it from the request: evaluate those requests again, unvalidated
  // (runSimulation above already validated the policies, the action and the resource)
  const ignored = result.resultType === 'single' ? result.result.ignoredContextKeys ?? [] : [];
  if (result.overallResult !== 'Allowed' && ignored.length > 0 && ignored.every((k) => /^kms:EncryptionContext:/i.test(k))) {
    // (the unvalidated path loads the resource policy without a name, unless it comes as a validated policy)
    const resourcePolicy = simulation.resourcePolicy && { __validated: true, policyDocument: simulation.resourcePolicy, metadata: { name: 'resource policy' }, errors: [] };
    if (runUnsafeSimulation({ ...simulation, resourcePolicy }, {}) === 'Allowed') return undefined;
  }
  if (result.overallResult === 'Allowed') return undefined;
  const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
  const reasons = analysis ? getDenialReasons(analysis) : [];
  const where = reasons.map((r) => (r.denialType === 'Explicit' ? `denied by ${r.policyType} policy ${r.policyIdentifier ?? ''} statement ${r.statementId ?? r.statementIndex}` : `no statement in the ${r.policyType} policies allows it`));
  const missing = `${where.join('; ')}; missing: ${JSON.stringify({ Effect: 'Allow', Action: request.action, Resource: request.resource, ...(Object.keys(request.context).length ? { ConditionKeys: request.context } : {}) })}`;
  return { request, result: result.overallResult, missing };
}

export function describeDenial(denial: Denial): string {
  const who = 'role' in denial.request.principal ? `role ${denial.request.principal.role.path}` : denial.request.principal.service;
  return `${denial.result}: ${who} ${denial.request.action} on ${denial.request.resource}\n  for ${denial.request.origin}\n  ${denial.missing}`;
}

/** The authorization requests of the requests received so far (and clears the log). */
export function receivedAuthorizationRequests(d: Deployment, options: IamCheckOptions): AuthorizationRequest[] {
  const seen = new Set<string>();
  const out: AuthorizationRequest[] = [];
  for (const req of takeReceivedRequests()) {
    const call = apiCall(req);
    if (!call) continue;
    // a request forwarded by a test's proxy (the consumer harness's Gate) reaches the fake with the same signature
    const signature = String(req.headers.authorization ?? new URL(req.url, 'http://localhost').searchParams.get('X-Amz-Signature'));
    if (seen.has(signature)) continue;
    seen.add(signature);
    if (options.ignoreKeys?.includes(call.accessKey)) continue;
    const caller = options.callers[call.accessKey];
    if (!caller) {
      throw new Error(`a request signed with access key ${call.accessKey} (${call.describe}) has no caller in this file's checkIam({ callers })`);
    }
    out.push(...authorizationRequests(d, caller(d), call));
  }
  return out;
}

/**
 * The per-file hook: after each test, every request the local servers received is evaluated; a
 * denied one fails the test. Returns the number of calls checked so far (a file can assert it is
 * more than zero).
 */
export function checkIam(options: IamCheckOptions): IamCheck {
  let deployment: Deployment | undefined;
  let checked = 0;
  let callers = options.callers;
  markChecked();
  let skipped: string | undefined;
  let known: Array<{ action: string; reason: string }> = [];
  beforeEach(() => {
    takeReceivedRequests();
    callers = options.callers;
    skipped = undefined;
    known = [];
  });
  afterEach(async () => {
    if (skipped !== undefined) {
      takeReceivedRequests();
      return;
    }
    deployment ??= options.deployment();
    const requests = receivedAuthorizationRequests(deployment, { ...options, callers });
    const denials = await evaluateAll(deployment, requests);
    checked += requests.length;
    for (const k of known) {
      const at = denials.findIndex((x) => x.request.action === k.action);
      if (at < 0) throw new Error(`IAM allows ${k.action} now: remove its knownDenial (${k.reason})`);
      denials.splice(at, 1);
    }
    if (denials.length > 0) {
      throw new Error(`IAM would deny ${denials.length} call(s) of this test:\n${denials.map(describeDenial).join('\n')}`);
    }
    // the first check of a file may synthesize its app (when lib/ changed since the cache was made)
  }, 180_000);
  return {
    checked: () => checked,
    callAs: (accessKey, caller) => {
      callers = { ...callers, [accessKey]: caller };
    },
    notDeployed: (reason) => {
      skipped = reason;
    },
    knownDenial: (action, reason) => {
      known.push({ action, reason });
    },
  };
}

export interface IamCheck {
  /** How many authorization requests the file's tests made so far. */
  checked(): number;
  /** In this test only, requests signed with `accessKey` are `caller`'s (e.g. a site's sampler rather than a hub's). */
  callAs(accessKey: string, caller: (d: Deployment) => DeployedResource): void;
  /** This test's calls are not evaluated: no deployment of this library makes them (say why). */
  notDeployed(reason: string): void;
  /**
   * In this test IAM denies `action` as deployed, for the reason given (a call no deployment makes,
   * or a defect filed and not yet fixed); the test fails when the denial is gone, so that the
   * acknowledgement goes with it.
   */
  knownDenial(action: string, reason: string): void;
}

/** The denials among `requests` (each distinct question evaluated once). */
export async function evaluateAll(d: Deployment, requests: AuthorizationRequest[], override?: Parameters<typeof evaluate>[2]): Promise<Denial[]> {
  const denials: Denial[] = [];
  for (const request of dedupe(requests)) {
    const denial = await evaluate(d, request, override);
    if (denial) denials.push(denial);
  }
  return denials;
}

/** The same question asked many times (a test's hundred PutRecords) is evaluated once. */
export function dedupe(requests: AuthorizationRequest[]): AuthorizationRequest[] {
  const seen = new Map<string, AuthorizationRequest>();
  for (const r of requests) {
    const who = 'role' in r.principal ? r.principal.role.path : r.principal.service;
    seen.set(JSON.stringify([who, r.action, r.resource, r.context]), r);
  }
  return [...seen.values()];
}

const CHECKED = Symbol.for('cdk-face-stream-pipeline.iam-checked');

function markChecked(): void {
  (globalThis as any)[CHECKED] = true;
}

/** Whether this test file declared its callers (the guard in iam-guard.ts asks). */
export function iamChecked(): boolean {
  return (globalThis as any)[CHECKED] === true;
}
