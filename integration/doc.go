// Package integration runs the real bootstrap binary against independent
// implementations of the protocols it speaks: the AWS Lambda Runtime
// Interface Emulator (the Lambda Runtime API and invoke endpoint),
// cognito-local (the Cognito user-pool admin API) and aws-ses-v2-local
// (SES v2 SendEmail). Our own fakes can share our own misunderstandings;
// these peers do not.
//
// The tests are behind the build tag "integration", so go test ./... skips
// them. Run them with make integration (scripts/integration.sh), which
// installs the pinned peers, builds the bootstrap, starts the servers on free
// loopback ports and runs
//
//	go test -tags integration -count=1 ./integration/
//
// with these variables set:
//
//	INTEGRATION_RIE          path of aws-lambda-rie
//	INTEGRATION_BOOTSTRAP    path of the bootstrap built with -tags lambda.norpc,lambdaonly (make build-local)
//	INTEGRATION_COGNITO_URL  cognito-local's endpoint, http://127.0.0.1:PORT
//	INTEGRATION_SES_URL      aws-ses-v2-local's endpoint, http://127.0.0.1:PORT
//	INTEGRATION_DYNAMODB_URL dynalite's endpoint, http://127.0.0.1:PORT
//	INTEGRATION_LOG_DIR      where each emulated function's output is kept
//	INTEGRATION_DEV_BINARY   the binary built as make dev runs it (go build .)
//	INTEGRATION_CLIENTS_MODULES  node_modules of integration/clients/package-lock.json
//
// TestRealClients (clients_test.go) drives the Cognito clients people use —
// Amplify JS v6, amazon-cognito-identity-js, the AWS SDK for JavaScript v3,
// plain fetch, boto3 and the AWS CLI — through the whole sign-in flow against
// the local stack (the binary outside Lambda with its Cognito stand-in).
//
// integration/coldstart measures the bootstrap's cold start under the
// emulator (make coldstart).
package integration
