// `cdk-face-stream-pipeline/events`: the face-event literals (source, detail types). See lib/events.ts.
module.exports = require('./lib/events');
