/**
 * Runs with every test file (jest setupFilesAfterEnv): a file whose tests made signed
 * AWS requests to the local servers must say whose they are with checkIam(...) (iam-check.ts), so
 * that no new handler test escapes the IAM simulation.
 */
import { iamChecked } from './iam-check';
import { takeReceivedRequests } from './request-log';

const SIGNED = /^AWS4-HMAC-SHA256 Credential=/;

afterAll(() => {
  if (iamChecked()) return;
  const signed = takeReceivedRequests().filter((r) => SIGNED.test(String(r.headers.authorization ?? '')));
  if (signed.length > 0) {
    const first = signed[0];
    throw new Error(
      `${signed.length} signed AWS request(s) reached the local servers (the first: ${first.method} ${first.url} ${String(first.headers['x-amz-target'] ?? '')}) ` +
        'but this file does not check them against the synthesized policies: add checkIam({ deployment, callers }) (test/support/iam-check.ts)',
    );
  }
});
