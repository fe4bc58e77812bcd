/**
 * A local EventBridge PutEvents endpoint (AWS JSON 1.1, `AWSEvents.PutEvents`) that enforces the
 * service's limits (1-10 entries, 256 KB per call, Source/DetailType/Detail present, Detail a
 * JSON object) and can fail chosen entries the way the service reports partial failures.
 */
import { ApiError, AwsJsonServer } from './aws-json-server';

export interface ReceivedEvent {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: any;
  readonly EventBusName?: string;
  readonly Resources?: string[];
  readonly Time?: number;
}

export class FakeEventBridge extends AwsJsonServer {
  public readonly events: ReceivedEvent[] = [];
  /** Entries (by position across all calls from now) to fail, with the error code. */
  private entryFailures: Array<{ remaining: number; code: string; when?: (detail: any) => boolean }> = [];
  private nextEventId = 1;

  constructor() {
    super('AWSEvents', 'application/x-amz-json-1.1', 'events');
  }

  public reset(): void {
    super.reset();
    this.events.length = 0;
    this.entryFailures = [];
  }

  /** The next `count` entries received fail with `code` (e.g. ThrottlingException, InternalFailure). */
  public failEntries(count: number, code = 'ThrottlingException'): void {
    this.entryFailures.push({ remaining: count, code });
  }

  /** Entries whose parsed Detail satisfies `when` fail with `code`, `times` times (default: always). */
  public failMatching(when: (detail: any) => boolean, code = 'InternalFailure', times = Number.POSITIVE_INFINITY): void {
    this.entryFailures.push({ remaining: times, code, when });
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    if (operation !== 'PutEvents') {
      throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
    }
    const entries: any[] = body.Entries ?? [];
    if (entries.length < 1 || entries.length > 10) {
      throw new ApiError('ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10 (got ${entries.length})`);
    }
    let size = 0;
    for (const e of entries) {
      size += 14 + Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? '');
      for (const r of e.Resources ?? []) {
        size += Buffer.byteLength(r);
      }
    }
    if (size > 256 * 1024) {
      throw new ApiError('ValidationException', `Total size of the entries in the request is over the limit (${size} bytes)`);
    }
    let failed = 0;
    const results = entries.map((e) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(e.Detail);
      } catch {
        parsed = undefined;
      }
      const failure = this.entryFailures.find((f) => f.remaining > 0 && (!f.when || f.when(parsed)));
      if (failure) {
        failure.remaining -= 1;
        failed += 1;
        return { ErrorCode: failure.code, ErrorMessage: `scripted ${failure.code}` };
      }
      if (!e.Source || !e.DetailType || typeof e.Detail !== 'string') {
        failed += 1;
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail are required' };
      }
      const detail = parsed;
      if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
        failed += 1;
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      this.events.push({ Source: e.Source, DetailType: e.DetailType, Detail: detail, EventBusName: e.EventBusName, Resources: e.Resources, Time: e.Time });
      return { EventId: `event-${this.nextEventId++}` };
    });
    return { FailedEntryCount: failed, Entries: results };
  }
}
