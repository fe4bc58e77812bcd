/**
 * The text of a notification, for a person: an e-mail subject and body, a one-line SMS, and the
 * message attributes subscription filter policies can use. Pure functions of the event, the
 * settings, the link and the clock.
 */
import type { FaceSightingDetail } from '../../events';

/** The longest SNS subject is 99 characters (it must be under 100). */
const SUBJECT_MAX = 99;
/** One SMS part of GSM-7 text. */
const SMS_MAX = 160;

export interface Link {
  readonly url: string;
  /** When the signature expires. */
  readonly expires: Date;
}

export interface Notification {
  readonly subject: string;
  /** For e-mail and every other protocol. */
  readonly body: string;
  /** One line for SMS (no link: a signed URL is a dozen SMS parts). */
  readonly sms: string;
  readonly attributes: Record<string, string>;
}

/** Who the sighting is: the matched person (external image id, user id, face id), or undefined for an unknown face. */
export function who(detail: FaceSightingDetail): string | undefined {
  if (!detail.matched || !detail.match) {
    return undefined;
  }
  const m = detail.match;
  return m.userId ?? m.externalImageId ?? (m.faceId ? `face ${m.faceId}` : 'someone in the collection');
}

export function composeNotification(detail: FaceSightingDetail, timeZone: string, link: Link | undefined, noLinkReason: string): Notification {
  const person = who(detail);
  const frameTime = new Date(detail.frameTime);
  const similarity = detail.match ? `${detail.match.similarity.toFixed(1)}%` : undefined;
  const subject = oneLine(`${person ?? 'Unknown face'} at ${detail.camera}`, SUBJECT_MAX);
  const lines = [
    person ? `${person} was seen by the camera ${detail.camera}.` : `A face that matches nobody in the collection was seen by the camera ${detail.camera}.`,
    '',
    `Who: ${person ?? 'unknown (no match in the collection)'}`,
    ...(similarity ? [`Similarity: ${similarity}`] : []),
    `Camera: ${detail.camera}`,
    `Time: ${zonedIso(frameTime, timeZone)} (${timeZone})`,
    `Time (UTC): ${utcIso(frameTime)}`,
    `Engine: ${detail.engine ?? 'stream-processor'}`,
    `Faces in the frame: ${detail.facesInFrame}`,
    link ? `Snapshot: ${link.url}` : `Snapshot: none (${noLinkReason})`,
    ...(link ? [`The link works until ${zonedIso(link.expires, timeZone)} (${timeZone}) at the latest.`] : []),
    '',
    `Sighting: ${detail.id}`,
  ];
  const sms = oneLine([subject, zonedIso(frameTime, timeZone), ...(similarity ? [`${similarity} similar`] : [])].join(', '), SMS_MAX);
  const attributes: Record<string, string> = { kind: person ? 'match' : 'unknown', camera: detail.camera };
  if (person && detail.match?.externalImageId) {
    attributes.externalImageId = detail.match.externalImageId;
  }
  return { subject, body: lines.join('\n'), sms, attributes };
}

/**
 * SNS's subject rules (ASCII, no line breaks or control characters, begins with a letter, number
 * or punctuation, under 100 characters), which suit one SMS line too: anything else becomes '?',
 * runs of white space one space, and a long text ends in '...'.
 */
export function oneLine(text: string, max: number): string {
  const ascii = text
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  return ascii.length <= max ? ascii : `${ascii.slice(0, max - 3).trimEnd()}...`;
}

/** 2026-12-02T14:02:07Z */
export function utcIso(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** 2026-12-02T15:02:07+01:00: the wall-clock time in `timeZone` with its offset then. */
export function zonedIso(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  // "GMT+01:00", "GMT-03:30", or "GMT" for a zero offset
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace(/^GMT/, '').replace(/^([+-])(\d):/, '$10$2:');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
