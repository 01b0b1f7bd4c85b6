package main

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLambdaBuildLeavesLocalOut: make build's artifact (-tags lambdaonly)
// compiles and holds only what runs in Lambda (DESIGN.md "Contract: build"):
// none of the local stand-ins, the local API Gateway, the dev server or the
// local token verifier and its JOSE library.
func TestLambdaBuildLeavesLocalOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Lambda artifact")
	}
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc,lambdaonly", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "magiclinks/local") || pkg == "magiclinks/gateway" || strings.HasPrefix(pkg, "github.com/go-jose/") {
			t.Errorf("the Lambda artifact links %s", pkg)
		}
		// What the cold start cannot afford (README "Performance"): the
		// SDK's config package brings the STS, SSO, SSO-OIDC and Sign-In
		// clients (awsenv replaces it), and a service's schemas package
		// builds every shape of the service in its package init (go.mod
		// holds DynamoDB and SES v2 at the versions before them).
		if pkg == "github.com/aws/aws-sdk-go-v2/config" || strings.HasSuffix(pkg, "/schemas") ||
			slices.Contains([]string{"sts", "sso", "ssooidc", "signin"}, strings.TrimPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/")) {
			t.Errorf("the Lambda artifact links %s, whose package init every cold start pays", pkg)
		}
	}
	bin := t.TempDir() + "/bootstrap"
	if out, err := exec.Command("go", "build", "-tags", "lambda.norpc,lambdaonly", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags lambdaonly: %v\n%s", err, out)
	}
	out, err = exec.Command("go", "tool", "nm", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool nm: %v\n%s", err, out)
	}
	// Only the operations the function calls are linked. Each other one
	// costs its serializers, deserializers and middleware: a wrapper that
	// let the linker see a client's type from an interface (awsclients.go)
	// kept them all, 9 MiB of the artifact.
	calls := map[string]bool{
		"cognitoidentityprovider.AdminGetUser": true, "cognitoidentityprovider.AdminCreateUser": true,
		"cognitoidentityprovider.AdminSetUserPassword": true, "cognitoidentityprovider.AdminUpdateUserAttributes": true,
		"sesv2.SendEmail":  true,
		"dynamodb.GetItem": true, "dynamodb.PutItem": true, "dynamodb.UpdateItem": true,
		// The DynamoDB client calls it itself for endpoint discovery.
		"dynamodb.DescribeEndpoints": true,
	}
	linked := map[string]bool{}
	for _, m := range sdkOperation.FindAllStringSubmatch(string(out), -1) {
		op := m[1] + "." + m[2]
		if m[2] == "Options" { // the client's own settings, not an operation
			continue
		}
		if !calls[op] && !linked[op] {
			t.Errorf("the Lambda artifact links the SDK operation %s, which the function never calls", op)
		}
		linked[op] = true
	}
	for op := range calls {
		if !linked[op] {
			t.Errorf("the Lambda artifact lacks %s: is the list above stale?", op)
		}
	}
}

// sdkOperation matches an operation of a service client in go tool nm's
// output.
var sdkOperation = regexp.MustCompile(`(?m) github\.com/aws/aws-sdk-go-v2/service/(cognitoidentityprovider|sesv2|dynamodb)\.\(\*Client\)\.([A-Z]\w*)$`)
