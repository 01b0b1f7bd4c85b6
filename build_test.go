package main

import (
	"os/exec"
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
	}
	if out, err := exec.Command("go", "build", "-tags", "lambda.norpc,lambdaonly", "-o", t.TempDir()+"/bootstrap", ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags lambdaonly: %v\n%s", err, out)
	}
}
