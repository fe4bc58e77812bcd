export * from './video-stream';
export * from './face-collection';
export * from './face-enrollment';
export * from './stream-processor';
export * from './camera';
export * from './face-search-consumer';
export * from './face-stream-pipeline';
