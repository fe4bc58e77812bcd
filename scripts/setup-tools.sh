#!/usr/bin/env bash
# Installs the tools the tests use that npm does not bring: Debian packages (scripts/apt-packages.txt)
# and a Python virtual environment in .venv (requirements-dev.txt, pinned). `npm test` runs it first,
# so `npm ci && npm test` sets up a fresh machine; on a machine that has everything it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: one a line, '#' starts a comment. Installed only where missing.
missing=()
while read -r pkg _; do
  [ -n "$pkg" ] || continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done < <(sed 's/#.*//' scripts/apt-packages.txt)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-tools: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python: Debian's interpreter, so that Debian's python3-* packages (python3-opencv) load in the venv too.
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "setup-tools: creating .venv from requirements-dev.txt"
  rm -rf .venv
  /usr/bin/python3 -m venv --system-site-packages .venv
  if grep -qv '^\s*\(#\|$\)' requirements-dev.txt; then
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  fi
  echo "$want" > .venv/.requirements.sha256
fi

# A second venv for the Python CDK app of test/languages (aws-cdk-lib and the jsii runtime: large, and
# nothing the tools above need). pip keeps its download cache (~/.cache/pip) between runs.
want=$(sha256sum requirements-languages.txt | cut -d' ' -f1)
if [ ! -x .venv-languages/bin/python ] || [ "$(cat .venv-languages/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "setup-tools: creating .venv-languages from requirements-languages.txt"
  rm -rf .venv-languages
  /usr/bin/python3 -m venv .venv-languages
  .venv-languages/bin/pip install --quiet --disable-pip-version-check -r requirements-languages.txt
  echo "$want" > .venv-languages/.requirements.sha256
fi

# .venv-checks: cfn-lint, checkov and moto (requirements-checks.txt, every dependency pinned in
# constraints-checks.txt), without Debian's python3-* packages: Debian's pyOpenSSL breaks the newer
# cryptography that botocore loads for these tools. Installed with uv (from PyPI, pinned), which
# fetches the ~120 wheels in parallel: about 1 minute on a fresh machine where pip takes several.
uv_version=0.9.9
want=$( (echo "uv $uv_version"; cat requirements-checks.txt constraints-checks.txt) | sha256sum | cut -d' ' -f1)
if [ ! -x .venv-checks/bin/python ] || [ "$(cat .venv-checks/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "setup-tools: creating .venv-checks from requirements-checks.txt"
  rm -rf .venv-checks
  /usr/bin/python3 -m venv .venv-checks
  .venv-checks/bin/pip install --quiet --disable-pip-version-check "uv==$uv_version"
  .venv-checks/bin/uv pip install --quiet --native-tls --python .venv-checks/bin/python -r requirements-checks.txt
  echo "$want" > .venv-checks/.requirements.sha256
fi
