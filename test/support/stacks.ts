import { App, Stack } from 'aws-cdk-lib';

/** A stack with a concrete environment, so ARNs in the template are readable. */
export function testStack(id = 'TestStack'): Stack {
  const app = new App();
  return new Stack(app, id, { env: { account: '123456789012', region: 'eu-west-1' } });
}
