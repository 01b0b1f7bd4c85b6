#!/usr/bin/env bash
# make coldstart: measure the bootstrap's cold start under the AWS Lambda Runtime
# Interface Emulator: from starting the process to the first answered invocation,
# and the bootstrap's peak RSS, over COLDSTART_RUNS (default 10) starts; prints
# every run, the median and the max, and the binary's size, beside the same
# figures of a trivial aws-lambda-go echo function built the same way, and the
# ratio of the two cold starts, and the Node anchor's init when node and npm
# are here. Needs only Go.
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
# The anchor: what most Cognito magic-link samples run (Node 20, AWS SDK v3
# Cognito and SES v2 clients), pinned in integration/coldstart/node. Measured
# when node and npm are here (npm ci from the registry, once); skipped, and
# said so, when they are not.
node_args=()
ANCHOR=$ROOT/.tools/node-anchor
if command -v node >/dev/null && command -v npm >/dev/null; then
	if ! cmp -s integration/coldstart/node/package-lock.json "$ANCHOR/.installed-lock.json" || [[ ! -d $ANCHOR/node_modules ]]; then
		echo "coldstart: installing the Node anchor (npm ci into .tools/node-anchor)" >&2
		mkdir -p "$ANCHOR"
		cp integration/coldstart/node/package.json integration/coldstart/node/package-lock.json "$ANCHOR/"
		(cd "$ANCHOR" && npm ci --ignore-scripts --no-audit --no-fund >&2)
		cp integration/coldstart/node/package-lock.json "$ANCHOR/.installed-lock.json"
	fi
	cp integration/coldstart/node/init.mjs "$ANCHOR/"
	node_args=(-node "$ANCHOR/init.mjs")
else
	echo "coldstart: NODE ANCHOR SKIPPED: node or npm is not on PATH" >&2
fi

go build -o "$WORK/coldstart" ./integration/coldstart
"$WORK/coldstart" -rie "$RIE" -bootstrap "$bootstrap" -baseline "$trivial" -n "${COLDSTART_RUNS:-10}" \
	-event testdata/events/cognito-define-first-call.json "${node_args[@]}"
