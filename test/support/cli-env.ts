import * as path from 'node:path';

/**
 * The environment the CLI runs with in tests and benches: the local Kinesis Video Streams
 * endpoint, static credentials, and no profile files (`dir` holds none).
 */
export function cliEnv(endpoint: string, dir: string): NodeJS.ProcessEnv {
  return {
    NODE_NO_WARNINGS: '1',
    PATH: process.env.PATH,
    AWS_ENDPOINT_URL_KINESIS_VIDEO: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
  };
}
