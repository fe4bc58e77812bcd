/** The handler's Powertools logger, created once per container (see shared/observability.ts). */
import { observability } from '../shared/observability';

export const { logger, begin } = observability('stream-processor');
