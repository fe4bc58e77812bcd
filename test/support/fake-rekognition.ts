/**
 * A local stand-in for the Rekognition stream processor API, speaking its real wire protocol
 * (AWS JSON 1.1: POST /, `X-Amz-Target: RekognitionService.<Operation>`, JSON bodies, errors as
 * `{"__type": ..., "Message": ...}` with the `x-amzn-ErrorType` header) and keeping processor state,
 * so that the real AWS SDK v3 client can be pointed at it with `AWS_ENDPOINT_URL_REKOGNITION`.
 *
 * Status transitions advance on DescribeStreamProcessor calls (deterministic, no timers):
 * StartStreamProcessor moves STOPPED/FAILED to STARTING, and RUNNING (or FAILED, when a failure
 * is scripted) follows after `pollsToSettle` describes; StopStreamProcessor likewise via STOPPING.
 */
import { ApiError, AwsJsonServer } from './aws-json-server';

export type { ScriptedFault, RecordedCall } from './aws-json-server';

export type Status = 'STOPPED' | 'STARTING' | 'RUNNING' | 'FAILED' | 'STOPPING' | 'UPDATING';

export interface FakeProcessor {
  Name: string;
  StreamProcessorArn: string;
  Status: Status;
  StatusMessage?: string;
  Input: { KinesisVideoStream: { Arn: string } };
  Output: { KinesisDataStream: { Arn: string } };
  RoleArn: string;
  Settings: { FaceSearch: { CollectionId: string; FaceMatchThreshold?: number } };
  DataSharingPreference: { OptIn: boolean };
  Tags: Record<string, string>;
  CreationTimestamp: number;
  LastUpdateTimestamp: number;
  /** Describes left before a transitional status settles. */
  pending: number;
  /** Where the transitional status settles. */
  settlesTo?: Status;
}

const ACCOUNT = '123456789012';

/** What IndexFaces "sees" in an image, scripted per S3 object name. */
export interface FakeImage {
  /** Faces in the image (default 1). */
  readonly faces?: number;
  /** Why faces are not indexed (e.g. SMALL_BOUNDING_BOX, LOW_SHARPNESS). */
  readonly unindexedReasons?: string[];
  /** An error IndexFaces answers with instead (e.g. InvalidImageFormatException). */
  readonly error?: string;
}

export interface FakeFace {
  readonly FaceId: string;
  readonly ImageId: string;
  readonly ExternalImageId?: string;
  readonly CollectionId: string;
}

/** Where IndexFaces reads pictures from (FakeS3 fits): a missing object or version is InvalidS3ObjectException. */
export interface FakeObjectStore {
  exists(bucket: string, key: string, versionId?: string): boolean;
}

export class FakeRekognition extends AwsJsonServer {
  /** When set, IndexFaces reads S3Object pictures from it, as Rekognition reads them from S3. */
  public objectStore?: FakeObjectStore;
  public readonly processors = new Map<string, FakeProcessor>();
  /** Indexed faces by face id. */
  public readonly faces = new Map<string, FakeFace>();
  /** Images by S3 object name. */
  public readonly images = new Map<string, FakeImage>();
  private nextFace = 1;
  /** Describes a transition takes to settle. */
  public pollsToSettle = 2;
  /** When set, a start settles in FAILED with this message instead of RUNNING. */
  public failStartWith?: string;
  /** When true, starts never settle (stuck in STARTING). */
  public stuckStarting = false;
  /** Stream processors allowed per account and Region (LimitExceededException beyond). */
  public quota = 10;
  /**
   * The next `times` StartStreamProcessor calls take effect (STARTING) but answer with this error,
   * as when the response is lost after the service acted.
   */
  public startActsThenFails?: { type: string; message: string; status?: number; times: number };

  constructor() {
    super('RekognitionService', 'application/x-amz-json-1.1', 'rekognition');
  }

  public reset(): void {
    super.reset();
    this.processors.clear();
    this.faces.clear();
    this.images.clear();
    this.pollsToSettle = 2;
    this.failStartWith = undefined;
    this.stuckStarting = false;
    this.quota = 10;
    this.startActsThenFails = undefined;
  }

  private get(name: unknown): FakeProcessor {
    const p = this.processors.get(String(name));
    if (!p) {
      throw new ApiError('ResourceNotFoundException', `Stream processor ${String(name)} not found`);
    }
    return p;
  }

  private byArn(arn: unknown): FakeProcessor {
    const p = [...this.processors.values()].find((x) => x.StreamProcessorArn === arn);
    if (!p) {
      throw new ApiError('ResourceNotFoundException', `Resource ${String(arn)} not found`);
    }
    return p;
  }

  private transition(p: FakeProcessor, via: Status, to: Status | undefined): void {
    p.Status = via;
    p.settlesTo = to;
    p.pending = this.pollsToSettle;
    p.LastUpdateTimestamp = Date.now() / 1000;
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    switch (operation) {
      case 'CreateStreamProcessor': {
        for (const field of ['Name', 'Input', 'Output', 'RoleArn', 'Settings']) {
          if (body[field] === undefined) {
            throw new ApiError('InvalidParameterException', `${field} is required`);
          }
        }
        if (!/^[a-zA-Z0-9_.\-]{1,128}$/.test(body.Name)) {
          throw new ApiError('InvalidParameterException', `Name ${body.Name} does not satisfy [a-zA-Z0-9_.\\-]{1,128}`);
        }
        if (!body.Settings.FaceSearch?.CollectionId) {
          throw new ApiError('InvalidParameterException', 'Settings.FaceSearch.CollectionId is required');
        }
        if (this.processors.has(body.Name)) {
          throw new ApiError('ResourceInUseException', `Stream processor ${body.Name} already exists`);
        }
        if (this.processors.size >= this.quota) {
          throw new ApiError('LimitExceededException', 'An Amazon Rekognition service limit was exceeded: stream processors');
        }
        const now = Date.now() / 1000;
        const p: FakeProcessor = {
          Name: body.Name,
          StreamProcessorArn: `arn:aws:rekognition:${this.region}:${ACCOUNT}:streamprocessor/${body.Name}`,
          Status: 'STOPPED',
          Input: body.Input,
          Output: body.Output,
          RoleArn: body.RoleArn,
          // the service stores a FaceMatchThreshold below 80 (or none) as 80
          Settings: { FaceSearch: { ...body.Settings.FaceSearch, FaceMatchThreshold: Math.max(80, body.Settings.FaceSearch.FaceMatchThreshold ?? 80) } },
          DataSharingPreference: body.DataSharingPreference ?? { OptIn: false },
          Tags: body.Tags ?? {},
          CreationTimestamp: now,
          LastUpdateTimestamp: now,
          pending: 0,
        };
        this.processors.set(p.Name, p);
        return { StreamProcessorArn: p.StreamProcessorArn };
      }
      case 'DescribeStreamProcessor': {
        const p = this.get(body.Name);
        if (p.settlesTo && !(p.Status === 'STARTING' && this.stuckStarting)) {
          p.pending -= 1;
          if (p.pending <= 0) {
            p.Status = p.settlesTo;
            p.settlesTo = undefined;
            p.LastUpdateTimestamp = Date.now() / 1000;
          }
        }
        const { pending: _pending, settlesTo: _settlesTo, Tags: _tags, ...visible } = p;
        return visible;
      }
      case 'StartStreamProcessor': {
        const p = this.get(body.Name);
        if (p.Status !== 'STOPPED' && p.Status !== 'FAILED') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}`);
        }
        p.StatusMessage = undefined;
        if (this.failStartWith) {
          this.transition(p, 'STARTING', 'FAILED');
          p.StatusMessage = this.failStartWith;
        } else {
          this.transition(p, 'STARTING', 'RUNNING');
        }
        const lost = this.startActsThenFails;
        if (lost && lost.times > 0) {
          lost.times -= 1;
          throw new ApiError(lost.type, lost.message, lost.status ?? 400);
        }
        return { SessionId: `session-${p.Name}` };
      }
      case 'StopStreamProcessor': {
        const p = this.get(body.Name);
        if (p.Status !== 'RUNNING') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}, not RUNNING`);
        }
        this.transition(p, 'STOPPING', 'STOPPED');
        return {};
      }
      case 'DeleteStreamProcessor': {
        const p = this.get(body.Name);
        if (p.Status !== 'STOPPED' && p.Status !== 'FAILED') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}; stop it first`);
        }
        this.processors.delete(p.Name);
        return {};
      }
      case 'ListStreamProcessors': {
        // Name and Status only, in name order, MaxResults (default 1000) per page
        const max = body.MaxResults ?? 1000;
        if (typeof max !== 'number' || max < 1 || max > 1000) {
          throw new ApiError('InvalidParameterException', `MaxResults ${String(max)} is not 1-1000`);
        }
        const all = [...this.processors.values()].sort((a, b) => a.Name.localeCompare(b.Name));
        const from = body.NextToken ? Number(String(body.NextToken).replace('token-', '')) : 0;
        if (!Number.isInteger(from) || from < 0 || from > all.length) {
          throw new ApiError('InvalidPaginationTokenException', `NextToken ${String(body.NextToken)} is invalid`);
        }
        const page = all.slice(from, from + max);
        return {
          StreamProcessors: page.map((p) => ({ Name: p.Name, Status: p.Status })),
          NextToken: from + max < all.length ? `token-${from + max}` : undefined,
        };
      }
      case 'UpdateStreamProcessor': {
        const p = this.get(body.Name);
        // refused while the processor is busy; allowed in STOPPED, RUNNING and FAILED
        if (p.Status === 'STARTING' || p.Status === 'STOPPING' || p.Status === 'UPDATING') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}`);
        }
        if (body.DataSharingPreferenceForUpdate) {
          p.DataSharingPreference = body.DataSharingPreferenceForUpdate;
        }
        this.transition(p, 'UPDATING', p.Status);
        return {};
      }
      case 'TagResource': {
        const p = this.byArn(body.ResourceArn);
        Object.assign(p.Tags, body.Tags);
        return {};
      }
      case 'UntagResource': {
        const p = this.byArn(body.ResourceArn);
        for (const key of body.TagKeys ?? []) {
          delete p.Tags[key];
        }
        return {};
      }
      case 'IndexFaces': {
        if (!body.CollectionId || !body.Image?.S3Object?.Bucket || !body.Image?.S3Object?.Name) {
          throw new ApiError('InvalidParameterException', 'CollectionId and Image.S3Object are required');
        }
        const { Bucket, Name, Version } = body.Image.S3Object;
        if (this.objectStore && !this.objectStore.exists(Bucket, Name, Version)) {
          throw new ApiError('InvalidS3ObjectException', 'Unable to get object metadata from S3. Check object key, region and/or access permissions.');
        }
        const image = this.images.get(Name) ?? { faces: 1 };
        if (image.error) {
          throw new ApiError(image.error, `scripted ${image.error}`);
        }
        const count = image.faces ?? 1;
        const max = body.MaxFaces ?? 100;
        const imageId = `image-${this.nextFace}`;
        const detail = (i: number) => ({ BoundingBox: { Width: 0.3, Height: 0.4, Left: 0.1 * i, Top: 0.1 }, Confidence: 99.9 });
        if (image.unindexedReasons) {
          return { FaceRecords: [], UnindexedFaces: Array.from({ length: count }, (_, i) => ({ Reasons: image.unindexedReasons, FaceDetail: detail(i) })) };
        }
        const FaceRecords = [];
        const UnindexedFaces = [];
        for (let i = 0; i < count; i++) {
          if (i >= max) {
            UnindexedFaces.push({ Reasons: ['EXCEEDS_MAX_FACES'], FaceDetail: detail(i) });
            continue;
          }
          const face: FakeFace = { FaceId: `face-${this.nextFace++}`, ImageId: imageId, ExternalImageId: body.ExternalImageId, CollectionId: body.CollectionId };
          this.faces.set(face.FaceId, face);
          FaceRecords.push({ Face: { FaceId: face.FaceId, ImageId: imageId, ExternalImageId: face.ExternalImageId, Confidence: 99.9, BoundingBox: detail(i).BoundingBox }, FaceDetail: detail(i) });
        }
        return { FaceRecords, UnindexedFaces, FaceModelVersion: '7.0' };
      }
      case 'DeleteFaces': {
        const ids: string[] = body.FaceIds ?? [];
        if (ids.length < 1 || ids.length > 4096) {
          throw new ApiError('InvalidParameterException', `FaceIds must have 1-4096 members, got ${ids.length}`);
        }
        const deleted = ids.filter((id) => this.faces.get(id)?.CollectionId === body.CollectionId);
        deleted.forEach((id) => this.faces.delete(id));
        const UnsuccessfulFaceDeletions = ids.filter((id) => !deleted.includes(id)).map((FaceId) => ({ FaceId, Reasons: ['FACE_NOT_FOUND'] }));
        return { DeletedFaces: deleted, UnsuccessfulFaceDeletions };
      }
      case 'ListTagsForResource':
        return { Tags: this.byArn(body.ResourceArn).Tags };
      default:
        throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
    }
  }
}
