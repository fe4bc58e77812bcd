// Jest snapshot serializer: masks asset hashes (64 hex digits, alone or in an S3 key such as
// "<hash>.zip") so that a change to a bundled handler does not break unrelated template snapshots.
const HASH = /[0-9a-f]{64}/g;

module.exports = {
  test: (value) => typeof value === 'string' && /[0-9a-f]{64}/.test(value),
  serialize: (value, config, indentation, depth, refs, printer) => printer(value.replace(HASH, '[ASSET HASH]'), config, indentation, depth, refs),
};
