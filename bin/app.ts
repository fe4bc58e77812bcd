#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { FaceAlertsStack } from '../examples/face-alerts-stack';
import { PeopleStack } from '../examples/people-stack';

const app = new App();
// Region and account from the CLI's profile when deploying; synthesis needs neither.
const env = process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined;
new FaceAlertsStack(app, 'FaceStreamPipelineExample', { env });
// users mode: people enrolled with several pictures, searched as one Rekognition user each
new PeopleStack(app, 'FaceStreamPipelinePeopleExample', { env });
app.synth();
