#!/usr/bin/env bash
# Lint terraform/ with tflint's bundled terraform ruleset (preset "all", see
# terraform/.tflint.hcl). Installs the pinned tflint from the Go module proxy
# into .tools/bin when it is missing or another version; exits non-zero on
# any finding.
set -euo pipefail

TFLINT_VERSION="v0.61.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
tflint="$bin/tflint"

have="$("$tflint" --version 2>/dev/null | head -n 1 || true)"
if [[ "$have" != "TFLint version ${TFLINT_VERSION#v}" ]]; then
  echo "tflint: installing $TFLINT_VERSION into $bin" >&2
  mkdir -p "$bin"
  # pkg@version ignores the project's go.mod: it is neither read nor changed.
  GOBIN="$bin" go install "github.com/terraform-linters/tflint@$TFLINT_VERSION"
fi

# No plugins to fetch: the terraform ruleset is built in.
cd "$root/terraform"
"$tflint" --init >/dev/null
exec "$tflint" --format=compact
