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
  /** Who the picture shows (default: its ExternalImageId): a face of someone else does not join a user. */
  readonly person?: string;
}

export interface FakeFace {
  readonly FaceId: string;
  readonly ImageId: string;
  readonly ExternalImageId?: string;
  readonly CollectionId: string;
  /** The user the face is associated with (AssociateFaces). */
  UserId?: string;
  /** Who the face shows (scripted with FakeImage.person): AssociateFaces compares it with the user's faces. */
  readonly person?: string;
}

export type UserStatus = 'CREATED' | 'UPDATING' | 'ACTIVE';

/** A Rekognition user (CreateUser): one vector built from its associated faces. */
export interface FakeUser {
  readonly UserId: string;
  readonly CollectionId: string;
  UserStatus: UserStatus;
  /** ListUsers calls left before an UPDATING user settles (ACTIVE, or CREATED with no faces). */
  pending: number;
  /** The ClientRequestToken that created it: a retry with it gets the same answer. */
  readonly token?: string;
}

/** At most 100 faces per user, and per AssociateFaces / DisassociateFaces call. */
export const MAX_FACES_PER_USER = 100;
const USER_ID = /^[a-zA-Z0-9_.\-:]{1,128}$/;

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
  /** Users by `<collection>|<user id>`. */
  public readonly users = new Map<string, FakeUser>();
  /** ListUsers calls an UPDATING user takes to settle after an association change (0: at once). */
  public userPollsToSettle = 0;
  /** CreateUser tokens already used: `<collection>|<token>` -> user id. */
  private readonly userTokens = new Map<string, string>();
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
    this.users.clear();
    this.userTokens.clear();
    this.userPollsToSettle = 0;
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

  /** The faces associated with a user. */
  public facesOf(collectionId: string, userId: string): FakeFace[] {
    return [...this.faces.values()].filter((f) => f.CollectionId === collectionId && f.UserId === userId);
  }

  private user(body: Record<string, any>): FakeUser {
    const u = this.users.get(`${body.CollectionId}|${body.UserId}`);
    if (!u) {
      throw new ApiError('ResourceNotFoundException', `The user id: ${String(body.UserId)} does not exist in collection ${String(body.CollectionId)}`);
    }
    return u;
  }

  /** An association change: UPDATING for a while (ConflictException to the next change meanwhile), then settled. */
  private changed(u: FakeUser): void {
    u.pending = this.userPollsToSettle;
    u.UserStatus = u.pending > 0 ? 'UPDATING' : this.settled(u);
  }

  private settled(u: FakeUser): UserStatus {
    return this.facesOf(u.CollectionId, u.UserId).length > 0 ? 'ACTIVE' : 'CREATED';
  }

  private assertNotUpdating(u: FakeUser): void {
    if (u.UserStatus === 'UPDATING') {
      throw new ApiError('ConflictException', `The user ${u.UserId} is being updated; retry when its status is ACTIVE or CREATED`);
    }
  }

  private faceIdsOf(body: Record<string, any>): string[] {
    const ids: string[] = body.FaceIds ?? [];
    if (ids.length < 1 || ids.length > MAX_FACES_PER_USER) {
      throw new ApiError('InvalidParameterException', `FaceIds must have 1-${MAX_FACES_PER_USER} members, got ${ids.length}`);
    }
    return ids;
  }

  private userDispatch(operation: string, body: Record<string, any>): unknown {
    switch (operation) {
      case 'CreateUser': {
        if (!USER_ID.test(String(body.UserId ?? ''))) {
          throw new ApiError('ValidationException', `1 validation error detected: Value at 'userId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-:]+ and length 1-128`);
        }
        const tokenKey = body.ClientRequestToken ? `${body.CollectionId}|${body.ClientRequestToken}` : undefined;
        if (tokenKey && this.userTokens.has(tokenKey)) {
          if (this.userTokens.get(tokenKey) !== body.UserId) {
            throw new ApiError('IdempotentParameterMismatchException', 'ClientRequestToken was used with other parameters');
          }
          return {}; // the same request again: the same answer, whether or not the user still exists
        }
        const key = `${body.CollectionId}|${body.UserId}`;
        if (this.users.has(key)) {
          throw new ApiError('ConflictException', `A user with the id ${body.UserId} already exists in the collection`);
        }
        this.users.set(key, { UserId: body.UserId, CollectionId: body.CollectionId, UserStatus: 'CREATED', pending: 0, token: body.ClientRequestToken });
        if (tokenKey) {
          this.userTokens.set(tokenKey, body.UserId);
        }
        return {};
      }
      case 'DeleteUser': {
        const u = this.user(body);
        this.assertNotUpdating(u);
        // the faces are disassociated, not deleted
        this.facesOf(u.CollectionId, u.UserId).forEach((f) => (f.UserId = undefined));
        this.users.delete(`${u.CollectionId}|${u.UserId}`);
        return {};
      }
      case 'ListUsers': {
        const all = [...this.users.values()].filter((u) => u.CollectionId === body.CollectionId).sort((a, b) => a.UserId.localeCompare(b.UserId));
        for (const u of all) {
          if (u.UserStatus === 'UPDATING' && --u.pending <= 0) {
            u.UserStatus = this.settled(u);
          }
        }
        const max = Math.min(body.MaxResults ?? 500, 500);
        const start = body.NextToken ? Number(body.NextToken) : 0;
        const page = all.slice(start, start + max);
        return { Users: page.map((u) => ({ UserId: u.UserId, UserStatus: u.UserStatus })), NextToken: start + max < all.length ? String(start + max) : undefined };
      }
      case 'AssociateFaces': {
        const ids = this.faceIdsOf(body);
        const u = this.user(body);
        this.assertNotUpdating(u);
        const current = this.facesOf(u.CollectionId, u.UserId);
        if (current.length >= MAX_FACES_PER_USER) {
          throw new ApiError('ServiceQuotaExceededException', `The user ${u.UserId} already has ${MAX_FACES_PER_USER} faces associated; no more can be added`);
        }
        const threshold = body.UserMatchThreshold ?? 75;
        const people = new Set(current.map((f) => f.person ?? f.ExternalImageId));
        const AssociatedFaces: Array<{ FaceId: string }> = [];
        const UnsuccessfulFaceAssociations: Array<Record<string, unknown>> = [];
        let count = current.length;
        for (const id of ids) {
          const f = this.faces.get(id);
          if (!f || f.CollectionId !== body.CollectionId) {
            UnsuccessfulFaceAssociations.push({ FaceId: id, UserId: u.UserId, Reasons: ['FACE_NOT_FOUND'] });
          } else if (f.UserId === u.UserId) {
            continue; // already associated with this user: ignored, not returned
          } else if (f.UserId) {
            UnsuccessfulFaceAssociations.push({ FaceId: id, UserId: u.UserId, Reasons: ['ASSOCIATED_TO_A_DIFFERENT_USER'] });
          } else if (people.size > 0 && !people.has(f.person ?? f.ExternalImageId) && threshold > 10) {
            UnsuccessfulFaceAssociations.push({ FaceId: id, UserId: u.UserId, Confidence: 10, Reasons: ['LOW_MATCH_CONFIDENCE'] });
          } else if (count >= MAX_FACES_PER_USER) {
            UnsuccessfulFaceAssociations.push({ FaceId: id, UserId: u.UserId, Reasons: [] });
          } else {
            f.UserId = u.UserId;
            count++;
            AssociatedFaces.push({ FaceId: id });
          }
        }
        if (AssociatedFaces.length > 0) {
          this.changed(u);
        }
        return { AssociatedFaces, UnsuccessfulFaceAssociations, UserStatus: u.UserStatus };
      }
      case 'DisassociateFaces': {
        const ids = this.faceIdsOf(body);
        const u = this.user(body);
        this.assertNotUpdating(u);
        const DisassociatedFaces: Array<{ FaceId: string }> = [];
        const UnsuccessfulFaceDisassociations: Array<Record<string, unknown>> = [];
        for (const id of ids) {
          const f = this.faces.get(id);
          if (!f || f.CollectionId !== body.CollectionId || !f.UserId) {
            UnsuccessfulFaceDisassociations.push({ FaceId: id, UserId: u.UserId, Reasons: ['FACE_NOT_FOUND'] });
          } else if (f.UserId !== u.UserId) {
            UnsuccessfulFaceDisassociations.push({ FaceId: id, UserId: u.UserId, Reasons: ['ASSOCIATED_TO_A_DIFFERENT_USER'] });
          } else {
            f.UserId = undefined;
            DisassociatedFaces.push({ FaceId: id });
          }
        }
        if (DisassociatedFaces.length > 0) {
          this.changed(u);
        }
        return { DisassociatedFaces, UnsuccessfulFaceDisassociations, UserStatus: u.UserStatus };
      }
      case 'ListFaces': {
        const all = [...this.faces.values()].filter((f) => f.CollectionId === body.CollectionId && (!body.UserId || f.UserId === body.UserId));
        if (body.UserId) {
          this.user(body);
        }
        const max = Math.min(body.MaxResults ?? 1000, 4096);
        const start = body.NextToken ? Number(body.NextToken) : 0;
        const page = all.slice(start, start + max);
        return {
          Faces: page.map((f) => ({ FaceId: f.FaceId, ImageId: f.ImageId, ExternalImageId: f.ExternalImageId, UserId: f.UserId, Confidence: 99.9, IndexFacesModelVersion: '7.0' })),
          NextToken: start + max < all.length ? String(start + max) : undefined,
          FaceModelVersion: '7.0',
        };
      }
      default:
        return undefined;
    }
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    const answer = this.userDispatch(operation, body);
    if (answer !== undefined) {
      return answer;
    }
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
          const face: FakeFace = { FaceId: `face-${this.nextFace++}`, ImageId: imageId, ExternalImageId: body.ExternalImageId, CollectionId: body.CollectionId, person: image.person };
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
        const found = ids.filter((id) => this.faces.get(id)?.CollectionId === body.CollectionId);
        // a face associated with a user is not deleted: disassociate it first
        const deleted = found.filter((id) => !this.faces.get(id)!.UserId);
        deleted.forEach((id) => this.faces.delete(id));
        const UnsuccessfulFaceDeletions = ids
          .filter((id) => !deleted.includes(id))
          .map((FaceId) => ({ FaceId, UserId: this.faces.get(FaceId)?.UserId, Reasons: [found.includes(FaceId) ? 'ASSOCIATED_TO_AN_EXISTING_USER' : 'FACE_NOT_FOUND'] }));
        return { DeletedFaces: deleted, UnsuccessfulFaceDeletions };
      }
      case 'ListTagsForResource':
        return { Tags: this.byArn(body.ResourceArn).Tags };
      default:
        throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
    }
  }
}
