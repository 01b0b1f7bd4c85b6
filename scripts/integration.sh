#!/usr/bin/env bash
# make integration: run the real bootstrap under the AWS Lambda Runtime Interface
# Emulator against cognito-local, aws-ses-v2-local and dynalite (see integration/doc.go).
#
# Installs what it needs (the emulator into .tools/bin from the Go module proxy,
# the pinned npm peers into .tools/npm with npm ci), builds the bootstrap as
# Lambda runs it, starts the peers on free 127.0.0.1 ports, runs
#   go test -tags integration -count=1 ./integration/
# and always stops the servers. On failure it prints their logs and keeps them
# in integration/logs/run-*/.
#
# Needs Go and Node >= 20.19 with npm. Without Node it fails loudly (in CI and
# locally alike: a skipped integration run must never pass for a green one).
#
# Environment:
#   INTEGRATION_BOOTSTRAP  use this bootstrap instead of building one
#   INTEGRATION_KEEP=1     keep the work folder (logs, cognito-local's db) on success too
#   INTEGRATION_RUN=REGEX  passed to go test -run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=../integration/tools.env
. integration/tools.env

say() { printf 'integration: %s\n' "$*" >&2; }
die() {
	printf '\n########################################################################\n' >&2
	printf '## integration: %s\n' "$@" >&2
	printf '########################################################################\n\n' >&2
	exit 1
}

command -v go >/dev/null || die "go is not on PATH"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	die "Node.js and npm are required (Node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR) but were not found." \
		"cognito-local and aws-ses-v2-local are npm packages: install Node first" \
		"(Debian 12's own nodejs is 18, too old: use a Node 20.19+ package)." \
		"The integration tests did NOT run."
fi
node_version=$(node -p 'process.versions.node')
IFS=. read -r node_major node_minor _ <<<"$node_version"
if ((node_major < NODE_MIN_MAJOR || (node_major == NODE_MIN_MAJOR && node_minor < NODE_MIN_MINOR))); then
	die "Node $node_version is too old: aws-ses-v2-local needs >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR." \
		"The integration tests did NOT run."
fi

TOOLS=$ROOT/.tools
mkdir -p "$TOOLS/bin" "$TOOLS/npm"

# --- the Runtime Interface Emulator -------------------------------------------
RIE=$TOOLS/bin/aws-lambda-rie
if [[ ! -x $RIE || $(cat "$RIE.version" 2>/dev/null) != "$RIE_VERSION" ]]; then
	say "building aws-lambda-rie $RIE_VERSION from the Go module proxy"
	# Outside the project's module, so its go.mod is neither read nor changed.
	(cd "$(mktemp -d)" && GOBIN=$TOOLS/bin GOFLAGS=-mod=mod CGO_ENABLED=0 \
		go install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION")
	echo "$RIE_VERSION" >"$RIE.version"
fi

# --- the npm peers, exactly as locked -----------------------------------------
NPM=$TOOLS/npm
if ! cmp -s integration/package-lock.json "$NPM/package-lock.json" ||
	! cmp -s integration/package-lock.json "$NPM/.installed-lock.json" ||
	[[ ! -d $NPM/node_modules ]]; then
	say "installing cognito-local and aws-ses-v2-local (npm ci into .tools/npm)"
	cp integration/package.json integration/package-lock.json "$NPM/"
	# No install scripts: the peers are plain JavaScript (aws-sdk's only one prints a notice).
	(cd "$NPM" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
	cp integration/package-lock.json "$NPM/.installed-lock.json"
fi
COGNITO_LOCAL=$NPM/node_modules/cognito-local/lib/bin/start.js
SES_LOCAL=$NPM/node_modules/aws-ses-v2-local/dist/cli.js
DYNALITE=$NPM/node_modules/dynalite/cli.js
[[ -f $COGNITO_LOCAL && -f $SES_LOCAL && -f $DYNALITE ]] || die "npm ci did not install the peers into $NPM"

# --- the real Cognito clients (Amplify v6, amazon-cognito-identity-js, SDK v3) --
CLIENTS=$TOOLS/clients
mkdir -p "$CLIENTS"
if ! cmp -s integration/clients/package-lock.json "$CLIENTS/.installed-lock.json" || [[ ! -d $CLIENTS/node_modules ]]; then
	say "installing the real clients (npm ci into .tools/clients)"
	cp integration/clients/package.json integration/clients/package-lock.json "$CLIENTS/"
	(cd "$CLIENTS" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
	cp integration/clients/package-lock.json "$CLIENTS/.installed-lock.json"
fi
[[ -d $CLIENTS/node_modules/aws-amplify ]] || die "npm ci did not install the real clients into $CLIENTS"

# --- work folder, cleanup -----------------------------------------------------
# Under integration/logs/ (git-ignored), so the logs of a failed run are easy to find.
mkdir -p integration/logs
WORK=$(mktemp -d "$ROOT/integration/logs/run-$(date +%Y%m%d-%H%M%S)-XXXX")
PIDS=()
cleanup() {
	local status=$?
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if ((status != 0)); then
		for log in "$WORK"/*.log; do
			[[ -f $log ]] || continue
			printf '\n===== %s =====\n' "$log" >&2
			tail -n 200 "$log" >&2
		done
		say "FAILED (exit $status); logs kept in $WORK"
	elif [[ ${INTEGRATION_KEEP:-} == 1 ]]; then
		say "logs kept in $WORK"
	else
		rm -rf "$WORK"
		rmdir "$ROOT/integration/logs" 2>/dev/null || true
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the bootstrap, built as Lambda runs it -----------------------------------
if [[ -n ${INTEGRATION_BOOTSTRAP:-} ]]; then
	BOOTSTRAP=$(cd "$(dirname "$INTEGRATION_BOOTSTRAP")" && pwd)/$(basename "$INTEGRATION_BOOTSTRAP")
	[[ -x $BOOTSTRAP ]] || die "INTEGRATION_BOOTSTRAP=$INTEGRATION_BOOTSTRAP is not an executable"
else
	mkdir -p "$WORK/task"
	BOOTSTRAP=$WORK/task/bootstrap
	say "building bootstrap (CGO_ENABLED=0 go build -tags lambda.norpc,lambdaonly -trimpath -ldflags='-s -w', as make build-local)"
	CGO_ENABLED=0 go build -tags lambda.norpc,lambdaonly -trimpath -ldflags='-s -w' -o "$BOOTSTRAP" .
fi
# The local stack the real clients drive: the binary as make dev runs it.
DEV_BINARY=$WORK/magiclinks-dev
say "building the local stack (go build ., as make dev runs it)"
go build -o "$DEV_BINARY" .

# --- the peers, on free loopback ports ----------------------------------------
# Each listens on port 0 and the port it got is read from its first log line,
# so two runs never race for a port.
wait_for_port() { # name logfile pid regex
	local name=$1 log=$2 pid=$3 re=$4 port
	for _ in $(seq 1 300); do
		port=$(grep -aoE "$re" "$log" 2>/dev/null | head -n1 | grep -oE '[0-9]+$' || true)
		if [[ -n $port ]]; then
			echo "$port"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || die "$name exited at start (log: $log)"
		sleep 0.1
	done
	die "$name did not start within 30s (log: $log)"
}

mkdir -p "$WORK/cognito-local" # it keeps its database in .cognito/ of its working folder
(cd "$WORK/cognito-local" && exec env PORT=0 HOST=127.0.0.1 node "$COGNITO_LOCAL") >"$WORK/cognito-local.log" 2>&1 &
PIDS+=($!)
COGNITO_PORT=$(wait_for_port cognito-local "$WORK/cognito-local.log" "${PIDS[-1]}" 'running on http://127\.0\.0\.1:[0-9]+')

(cd "$WORK" && exec node "$SES_LOCAL" --host 127.0.0.1 --port 0) >"$WORK/aws-ses-v2-local.log" 2>&1 &
PIDS+=($!)
SES_PORT=$(wait_for_port aws-ses-v2-local "$WORK/aws-ses-v2-local.log" "${PIDS[-1]}" 'server running at http://[a-z0-9.]+:[0-9]+')

# dynalite takes no port 0 (it falls back to 4567): ask the kernel for a free
# one and retry if another process took it in between.
for _ in 1 2 3; do
	DYNAMO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	(cd "$WORK" && exec node "$DYNALITE" --host 127.0.0.1 --port "$DYNAMO_PORT" --createTableMs 0 --deleteTableMs 0) >"$WORK/dynalite.log" 2>&1 &
	PIDS+=($!)
	if (wait_for_port dynalite "$WORK/dynalite.log" "${PIDS[-1]}" "listening at: http://127\.0\.0\.1:$DYNAMO_PORT") >/dev/null 2>&1; then
		break
	fi
	DYNAMO_PORT=
done
[[ -n $DYNAMO_PORT ]] || die "dynalite did not start (log: $WORK/dynalite.log)"

say "cognito-local on 127.0.0.1:$COGNITO_PORT, aws-ses-v2-local on 127.0.0.1:$SES_PORT, dynalite on 127.0.0.1:$DYNAMO_PORT, logs in $WORK"

# --- the tests ----------------------------------------------------------------
export INTEGRATION_RIE=$RIE
export INTEGRATION_BOOTSTRAP=$BOOTSTRAP
export INTEGRATION_COGNITO_URL=http://127.0.0.1:$COGNITO_PORT
export INTEGRATION_SES_URL=http://127.0.0.1:$SES_PORT
export INTEGRATION_DYNAMODB_URL=http://127.0.0.1:$DYNAMO_PORT
export INTEGRATION_LOG_DIR=$WORK
export INTEGRATION_DEV_BINARY=$DEV_BINARY
export INTEGRATION_CLIENTS_MODULES=$CLIENTS/node_modules
start=$(date +%s)
go test -tags integration -count=1 -timeout 10m -v ${INTEGRATION_RUN:+-run "$INTEGRATION_RUN"} ./integration/
say "passed in $(($(date +%s) - start))s"
