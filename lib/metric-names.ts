/**
 * The metric contract between the handlers that publish metrics (CloudWatch embedded metrics
 * through Powertools) and the constructs that read them (metric methods, alarms, dashboards): the
 * namespace, the `service` dimension values and every metric name, written once. Both sides import
 * this module (the handlers through their bundles), so a renamed metric is a compile error on the
 * side that still uses the old name, not an alarm without data.
 */

/** The namespace of every metric this library publishes. */
export const METRICS_NAMESPACE = 'FaceStreamPipeline';

/** The face search consumer (service dimension: its consumer id). */
export const CONSUMER_METRICS = {
  RECORDS_PROCESSED: 'RecordsProcessed',
  FACES_MATCHED: 'FacesMatched',
  UNKNOWN_FACES: 'UnknownFaces',
  MALFORMED_RECORDS: 'MalformedRecords',
  DEDUPED_SIGHTINGS: 'DedupedSightings',
  EVENTS_FAILED: 'EventsFailed',
} as const;

/** Enrolment (service dimension ENROLLMENT_SERVICE). */
export const ENROLLMENT_SERVICE = 'face-enrollment';
export const ENROLLMENT_METRICS = {
  FACES_ENROLLED: 'FacesEnrolled',
  ENROLLMENTS_FAILED: 'EnrollmentsFailed',
  FACES_REMOVED: 'FacesRemoved',
  ENROLLMENT_TAGS_OMITTED: 'EnrollmentTagsOmitted',
} as const;

/** The stream processor health check: no service dimension, one dimension with the processor's name. */
export const PROCESSOR_HEALTH_SERVICE = 'stream-processor-health';
export const PROCESSOR_HEALTH_METRICS = {
  FAILED: 'StreamProcessorFailed',
  RUNNING: 'StreamProcessorRunning',
  /** The one dimension: the processor's name. */
  DIMENSION: 'StreamProcessor',
} as const;

/** The frame sampler (dimensions: service SAMPLER_SERVICE and camera). */
export const SAMPLER_SERVICE = 'frame-sampler';
export const SAMPLER_METRICS = {
  HEARTBEAT: 'Heartbeat',
  STOPPED: 'Stopped',
  LAG_SECONDS: 'LagSeconds',
  SECONDS_SKIPPED: 'SecondsSkipped',
  FRAMES_ANALYSED: 'FramesAnalysed',
  FRAMES_SKIPPED_UNCHANGED: 'FramesSkippedUnchanged',
  FACES_SEARCHED: 'FacesSearched',
  THROTTLES: 'Throttles',
  MEDIA_ERRORS: 'MediaErrors',
  GET_IMAGES_CALLS: 'GetImagesCalls',
  /** Frame time to record written (live mode). */
  LATENCY_SECONDS: 'LatencySeconds',
} as const;

/**
 * Snapshots (with the pipeline's `snapshots` on), published by whichever handler stores them (the
 * frame sampler, or the consumer for stream-processor cameras) under its own service dimension.
 */
export const SNAPSHOT_METRICS = {
  /** Sightings whose face and frame JPEGs were stored. */
  STORED: 'SnapshotsStored',
  /** Sightings sent without a snapshot because fetching or storing the pictures failed. */
  FAILED: 'SnapshotsFailed',
} as const;
