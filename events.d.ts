// The types-only entry point `cdk-face-stream-pipeline/events`: the face-event contract (detail
// types and literals), for typing event handlers. See lib/events.ts.
export * from './lib/events';
