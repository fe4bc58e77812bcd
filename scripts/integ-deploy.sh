#!/usr/bin/env bash
# Deploys each integ test (test/integ/integ.<name>.ts, or those named) in the caller's AWS account
# and Region, which runs its assertions (integ-tests-alpha custom resources in the DeployAssert
# stack: a failed assertion fails the deployment), then destroys what it deployed, pass or fail.
# Usage: npm run integ:deploy [-- frame-sampling|stream-processor]
set -uo pipefail
cd "$(dirname "$0")/.."
node scripts/bundle.mjs --quiet
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(frame-sampling stream-processor)
status=0
for name in "${names[@]}"; do
  app="npx tsx test/integ/integ.${name}.ts"
  out="cdk.out.integ.${name}"
  echo "integ ${name}: deploying and asserting"
  npx cdk deploy --app "$app" --output "$out" --all --require-approval never || status=1
  echo "integ ${name}: destroying"
  npx cdk destroy --app "$app" --output "$out" --all --force || status=1
  rm -rf "$out"
done
exit $status
