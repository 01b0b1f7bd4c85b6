#!/usr/bin/env bash
# make coldstart: measure the bootstrap's cold start under the AWS Lambda Runtime
# Interface Emulator: from starting the process to the first answered invocation,
# and the bootstrap's peak RSS, over COLDSTART_RUNS (default 10) starts; prints
# every run, the median and the max, and the binary's size, beside the same
# figures of a trivial aws-lambda-go echo function built the same way, and the
# ratio of the two cold starts. Needs only Go.
#
# Environment:
#   BOOTSTRAP=path     measure this bootstrap instead of building one
#   COLDSTART_RUNS=N   number of cold starts (at least 10 for the figures we quote)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../integration/tools.env
. integration/tools.env

command -v go >/dev/null || { echo "coldstart: go is not on PATH" >&2; exit 1; }

RIE=$ROOT/.tools/bin/aws-lambda-rie
if [[ ! -x $RIE || $(cat "$RIE.version" 2>/dev/null) != "$RIE_VERSION" ]]; then
	echo "coldstart: building aws-lambda-rie $RIE_VERSION from the Go module proxy" >&2
	mkdir -p "$ROOT/.tools/bin"
	(cd "$(mktemp -d)" && GOBIN=$ROOT/.tools/bin GOFLAGS=-mod=mod CGO_ENABLED=0 \
		go install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION")
	echo "$RIE_VERSION" >"$RIE.version"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/magiclinks-coldstart.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ -n ${BOOTSTRAP:-} ]]; then
	bootstrap=$BOOTSTRAP
else
	bootstrap=$WORK/task/bootstrap
	mkdir -p "$WORK/task"
	echo "coldstart: building bootstrap (CGO_ENABLED=0 go build -tags lambda.norpc,lambdaonly -trimpath -ldflags='-s -w', as make build-local)" >&2
	CGO_ENABLED=0 go build -tags lambda.norpc,lambdaonly -trimpath -ldflags='-s -w' -o "$bootstrap" .
fi
# The yardstick: the trivial aws-lambda-go echo function, built the same way.
trivial=$WORK/trivial/bootstrap
mkdir -p "$WORK/trivial"
CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$trivial" ./integration/coldstart/trivial
go build -o "$WORK/coldstart" ./integration/coldstart
"$WORK/coldstart" -rie "$RIE" -bootstrap "$bootstrap" -baseline "$trivial" -n "${COLDSTART_RUNS:-10}" \
	-event testdata/events/cognito-define-first-call.json
