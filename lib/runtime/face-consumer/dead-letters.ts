/**
 * Malformed records go to the dead-letter queue with their reason and raw data, each once: the
 * handler passes only the records that no retry will redeliver, and the letters go in stream order,
 * a batch at a time, stopping at the first batch the queue fails to take in full (the records after
 * it come again with the retry). SQS's rules, as the service applies them:
 *  - a message is at most the queue's MaximumMessageSize bytes, and so is a SendMessageBatch call
 *    in all (otherwise BatchRequestTooLong for the whole call): batches are cut by bytes and count;
 *  - a body may only hold #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
 *    (otherwise InvalidMessageContents): the JSON body escapes every other character (\uXXXX),
 *    so it still parses to the same text;
 *  - a body larger than the limit keeps the start of `data` (`dataTruncated: true`), with the
 *    stream and sequence number to read the rest.
 * A permanent refusal (a 4xx other than throttling, or an entry failed as the sender's fault) is
 * not retried as if SQS were down: the letters are sent one by one, and a letter still refused is
 * cut to its coordinates and reason. Only transient failures make the record a batch item failure.
 */
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { KinesisStreamRecord } from 'aws-lambda';
import { batchBy } from '../shared/batching';
import { errorName, isRetryable } from '../shared/errors';
import { cameraOf } from './cameras';
import { logger, sqs } from './clients';
import { config } from './config';

export interface DeadLetter {
  readonly record: KinesisStreamRecord;
  readonly reason: string;
  /** The record's position in its batch (stream order). */
  readonly index: number;
}

/** SQS's most entries per SendMessageBatch. */
const MAX_BATCH_ENTRIES = 10;
/** The longest reason kept in a letter cut to its coordinates. */
const MAX_REASON_CHARS = 1000;

/** Characters SQS refuses in a message body (the complement of its allowed set). */
const REFUSED = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** JSON text with every character SQS refuses written as a JSON escape: the same value, accepted by SQS. */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(REFUSED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function coordinates(letter: DeadLetter) {
  const r = letter.record;
  const data = r.kinesis?.data;
  return {
    reason: letter.reason,
    consumer: config.consumerId,
    camera: cameraOf(r.eventSourceARN),
    eventSourceARN: r.eventSourceARN,
    eventID: r.eventID,
    sequenceNumber: r.kinesis?.sequenceNumber,
    partitionKey: r.kinesis?.partitionKey,
    approximateArrivalTimestamp: r.kinesis?.approximateArrivalTimestamp,
    dataLength: typeof data === 'string' ? data.length : 0,
  };
}

/** The message body of a letter: at most `max` bytes, only characters SQS takes. */
export function deadLetterBody(letter: DeadLetter, max: number): string {
  const base = coordinates(letter);
  const data = typeof letter.record.kinesis?.data === 'string' ? letter.record.kinesis.data : '';
  const full = sqsSafeJson({ ...base, data, dataTruncated: false });
  if (Buffer.byteLength(full) <= max) {
    return full;
  }
  // keep as much of the start of the data as fits (base64 from Kinesis: a byte per character)
  const empty = sqsSafeJson({ ...base, data: '', dataTruncated: true });
  let room = max - Buffer.byteLength(empty);
  while (room > 0) {
    const body = sqsSafeJson({ ...base, data: data.slice(0, room), dataTruncated: true });
    const over = Buffer.byteLength(body) - max;
    if (over <= 0) {
      return body;
    }
    room -= over;
  }
  return minimalBody(letter);
}

/** A letter cut to its coordinates and the start of its reason: what is sent when nothing larger is taken. */
export function minimalBody(letter: DeadLetter): string {
  const base = coordinates(letter);
  const reasonTruncated = base.reason.length > MAX_REASON_CHARS;
  return sqsSafeJson({ ...base, reason: base.reason.slice(0, MAX_REASON_CHARS), reasonTruncated, data: '', dataTruncated: true });
}

interface Message {
  readonly letter: DeadLetter;
  readonly body: string;
  readonly bytes: number;
}

/** Batches of at most 10 messages and `max` bytes in all. */
export function batchesOf(messages: Message[], max: number): Message[][] {
  return batchBy(messages, { maxCount: MAX_BATCH_ENTRIES, maxBytes: max, sizeOf: (m) => m.bytes });
}

/**
 * Sends the letters (in stream order) and returns how many the queue took; adds the records that met
 * a transient failure to `failed`. After a batch with such a failure, the later letters are not
 * sent: Lambda redelivers their records with the retry, which sends them.
 */
export async function sendDeadLetters(letters: DeadLetter[], failed: Set<KinesisStreamRecord>): Promise<number> {
  const max = config.deadLetterMaxMessageBytes;
  const messages = letters.map((letter) => {
    const body = deadLetterBody(letter, max);
    return { letter, body, bytes: Buffer.byteLength(body) };
  });
  let sent = 0;
  for (const batch of batchesOf(messages, max)) {
    await sendBatch(batch, failed);
    const refused = batch.filter((m) => failed.has(m.letter.record)).length;
    sent += batch.length - refused;
    if (refused > 0) {
      break;
    }
  }
  return sent;
}

async function sendBatch(batch: Message[], failed: Set<KinesisStreamRecord>): Promise<void> {
  if (batch.length === 1) {
    return sendOne(batch[0], failed);
  }
  let response;
  try {
    response = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: config.deadLetterQueueUrl, Entries: batch.map((m, i) => ({ Id: String(i), MessageBody: m.body })) }),
    );
  } catch (error) {
    if (isRetryable(error)) {
      logger.warn('dead-letter queue unavailable; the records will be retried', { error: errorName(error), records: batch.length });
      batch.forEach((m) => failed.add(m.letter.record));
      return;
    }
    // the queue refuses the call itself (e.g. BatchRequestTooLong with a smaller queue than configured): one by one
    logger.warn('dead-letter batch refused; sending the letters one by one', { error: errorName(error), records: batch.length });
    for (const m of batch) {
      await sendOne(m, failed);
      if (failed.has(m.letter.record)) {
        return; // the rest come again with the retry
      }
    }
    return;
  }
  await Promise.all(
    (response.Failed ?? []).map((failure) => {
      const m = batch[Number(failure.Id)];
      if (!failure.SenderFault) {
        // sent again alone now: the letters after it in this batch are in the queue already, and a
        // batch item failure would make the retry send them again
        logger.warn('dead-letter message not accepted; sending it again alone', { code: failure.Code, sequenceNumber: m.letter.record.kinesis?.sequenceNumber });
        return sendOne(m, failed);
      }
      return sendMinimal(m.letter, failure.Code ?? 'SenderFault', failed);
    }),
  );
}

async function sendOne(m: Message, failed: Set<KinesisStreamRecord>): Promise<void> {
  try {
    await sqs.send(new SendMessageCommand({ QueueUrl: config.deadLetterQueueUrl, MessageBody: m.body }));
  } catch (error) {
    if (isRetryable(error)) {
      logger.warn('dead-letter queue unavailable; the record will be retried', { error: errorName(error), sequenceNumber: m.letter.record.kinesis?.sequenceNumber });
      failed.add(m.letter.record);
      return;
    }
    await sendMinimal(m.letter, errorName(error), failed);
  }
}

/** The last resort for a letter SQS refuses: its coordinates and reason only. */
async function sendMinimal(letter: DeadLetter, refusal: string, failed: Set<KinesisStreamRecord>): Promise<void> {
  const sequenceNumber = letter.record.kinesis?.sequenceNumber;
  try {
    await sqs.send(new SendMessageCommand({ QueueUrl: config.deadLetterQueueUrl, MessageBody: minimalBody(letter) }));
    logger.warn('dead letter refused by the queue; sent without its data', { refusal, sequenceNumber });
  } catch (error) {
    // access denied, a missing queue or key: nothing here can fix it, and the record must not be lost
    logger.error('the dead-letter queue refuses even the record coordinates; the record will be retried', { refusal, error: errorName(error), sequenceNumber });
    failed.add(letter.record);
  }
}
