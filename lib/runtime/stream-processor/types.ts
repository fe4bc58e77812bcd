/**
 * The Provider framework's events, as @types/aws-lambda declares them, plus the two fields this
 * handler adds: onEvent's answer is merged into the event isComplete receives
 * (`{ ...event, ...onEventResponse }`), so what onEvent learned reaches every poll.
 */
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';

export type OnEventRequest = CdkCustomResourceEvent;

/** The fields onEvent adds to its answer for isComplete. */
export interface WaitState {
  /** Epoch milliseconds after which isComplete gives up with an error naming the stuck state. */
  readonly WaitDeadline?: number;
  /** True when this request created the processor (not adopted, not the existing one): a failure deletes it. */
  readonly Created?: boolean;
}

export type ProcessorData = { Name: string; Arn: string; Status?: string };

export type OnEventResponse = CdkCustomResourceResponse<ProcessorData> & WaitState & { PhysicalResourceId: string };

export type IsCompleteRequest = CdkCustomResourceIsCompleteEvent<Record<string, any>, Record<string, any>, ProcessorData> & WaitState;

export type IsCompleteResponse = CdkCustomResourceIsCompleteResponse<ProcessorData>;
