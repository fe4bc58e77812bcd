#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FaceAlertsStack } from '../examples/face-alerts-stack';

const app = new App();
new FaceAlertsStack(app, 'FaceStreamPipelineExample', {
  // Region and account from the CLI's profile when deploying; synthesis needs neither.
  env: process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
});
app.synth();
