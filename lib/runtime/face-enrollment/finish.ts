/**
 * What every path ends with, and what a retry of a handled event resumes: delete the faces still
 * to delete, then send the events still pending (only then: "Face Removed" follows the deletion).
 */
import { deleteFaces } from './faces';
import { logger } from './clients';
import { MappingItem, StaleRevision, writeItem } from './mapping';
import { publishEvents } from './publish';
import { leaveUser, usersMode } from './users';

export const unfinished = (item: MappingItem) => item.staleFaceIds.length > 0 || item.pending.length > 0;

/** A newer event of the key may have taken the item over meanwhile: it carries what is left. */
async function write(next: MappingItem): Promise<void> {
  try {
    await writeItem(next, next.rev);
  } catch (error) {
    if (!(error instanceof StaleRevision)) {
      throw error;
    }
    logger.info('the item was taken over by a newer event of the key; it finishes the rest', { pk: next.pk });
  }
}

export async function finish(item: MappingItem): Promise<void> {
  if (item.staleFaceIds.length > 0) {
    if (usersMode()) {
      await leaveUser(item.externalImageId, item.staleFaceIds);
    }
    await deleteFaces(item.staleFaceIds);
    logger.info('faces deleted from the collection', { pk: item.pk, faceIds: item.staleFaceIds });
  }
  const undelivered = await publishEvents(item.pending);
  await write({ ...item, staleFaceIds: [], pending: undelivered });
  if (undelivered.length > 0) {
    // Lambda retries the event, and the retry sends what is still pending
    throw new Error(`${undelivered.length} enrolment event(s) not delivered: ${undelivered.map((e) => e.detailType).join(', ')}`);
  }
}
