/**
 * The handler's Powertools logger, created once per container (see shared/logging.ts). The custom
 * resource publishes no metric: the processors' health metrics come from the health check.
 */
import { logging } from '../shared/logging';

export const { logger, begin } = logging('stream-processor');
