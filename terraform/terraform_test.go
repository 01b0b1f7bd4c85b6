package terraform_test

// TestTerraform proves the module with Terraform itself and the real
// hashicorp/aws provider, offline: fmt, init from the machine's local provider
// mirror, validate, and terraform test (tests/*.tftest.hcl: real plans, and
// variable checks with a mocked provider), with terraform.tfvars.example as
// the variables. The few invariants no plan can see stay below as Go.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

const mirrorSuffix = "registry.terraform.io/hashicorp/aws"

// tools finds terraform and the local provider mirror, or skips loudly (and
// fails under CI=true, where both must be there).
func tools(t *testing.T) (terraform, mirrorRoot string) {
	t.Helper()
	missing := func(what string) {
		msg := fmt.Sprintf("\n%s\n!!! TERRAFORM CHECKS SKIPPED: %s.\n!!! fmt, init, validate and the offline plans of terraform/ did not run.\n%s",
			strings.Repeat("!", 78), what, strings.Repeat("!", 78))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	terraform, err := exec.LookPath("terraform")
	if err != nil {
		missing("terraform is not on PATH")
	}
	mirror := findMirror()
	if mirror == "" {
		missing("no local mirror of " + mirrorSuffix + " (set TF_PROVIDER_MIRROR to the directory holding registry.terraform.io/)")
	}
	return terraform, mirror
}

// findMirror returns the directory that holds registry.terraform.io/hashicorp/aws:
// TF_PROVIDER_MIRROR, the usual places, or the first that find(1) sees.
func findMirror() string {
	candidates := []string{os.Getenv("TF_PROVIDER_MIRROR"), "/opt/tf-plugins", "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins"}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".terraform.d", "plugins"))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(c, mirrorSuffix)); err == nil && fi.IsDir() {
			return c
		}
	}
	out, _ := exec.Command("find", "/", "-maxdepth", "7", "-path", "*/"+mirrorSuffix, "-print", "-quit").Output()
	if p := strings.TrimSpace(string(out)); p != "" {
		return strings.TrimSuffix(p, "/"+mirrorSuffix)
	}
	return ""
}

func TestTerraform(t *testing.T) {
	terraform, mirror := tools(t)

	// A copy of the module in a temporary directory: init writes .terraform/
	// and a lock file made from the mirror, neither of which belongs in the
	// repository (DESIGN.md "Terraform on these machines").
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "terraform")
	copyModule(t, ".", dir)
	writeEmailFromTests(t, filepath.Join(dir, "tests", "email_from.tftest.hcl"))

	cli := filepath.Join(tmp, "cli.tfrc")
	cfg := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%q]
  }
  direct {
    exclude = [%q]
  }
}
`, mirror, mirrorSuffix, mirrorSuffix)
	if err := os.WriteFile(cli, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cli,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"TF_PLUGIN_CACHE_DIR=",
		// Nothing of a real AWS setup on this machine is read.
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PROFILE=",
		"AWS_EC2_METADATA_DISABLED=true",
	)

	steps := [][]string{
		{"fmt", "-check", "-diff", "-recursive"},
		{"init", "-backend=false", "-input=false", "-no-color"},
		{"validate", "-no-color"},
		{"test", "-no-color", "-var-file=terraform.tfvars.example"},
	}
	for _, args := range steps {
		cmd := exec.Command(terraform, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "test" {
			t.Logf("terraform test:\n%s", out)
		}
	}
}

// copyModule copies the .tf files, the example variables and tests/.
func copyModule(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			if rel != "." && rel != "tests" && !strings.HasPrefix(rel, "tests"+string(filepath.Separator)) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if rel == "terraform.tfvars" || rel == "terraform_test.go" || strings.HasSuffix(rel, ".tfstate") || strings.HasSuffix(rel, ".lock.hcl") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// emailFromTable is testdata/email_from.json, which config/config_test.go
// runs through Go's check (config.Load) too.
type emailFromTable struct {
	Addresses []struct {
		Value string `json:"value"`
		Valid bool   `json:"valid"`
	} `json:"addresses"`
}

// writeEmailFromTests turns the table into one terraform test run per
// address: a valid one plans, an invalid one fails email_from's validation.
func writeEmailFromTests(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile("../testdata/email_from.json")
	if err != nil {
		t.Fatal(err)
	}
	var table emailFromTable
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatal(err)
	}
	// The runs plan a module made of variables.tf alone: the very validation
	// the deployment has, without planning the whole stack 36 times.
	vars, err := os.ReadFile("variables.tf")
	if err != nil {
		t.Fatal(err)
	}
	mod := filepath.Join(filepath.Dir(path), "email_from")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "variables.tf"), vars, 0o644); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString(`# Generated by terraform_test.go from testdata/email_from.json.
variables {
  ses_identity = "example.com"
}
`)
	for i, a := range table.Addresses {
		fmt.Fprintf(&sb, "\n# valid: %t\nrun \"email_from_%d\" {\n  command = plan\n\n  module {\n    source = \"./tests/email_from\"\n  }\n\n  variables {\n    email_from = %s\n  }\n", a.Valid, i, hclString(a.Value))
		if !a.Valid {
			sb.WriteString("\n  expect_failures = [var.email_from]\n")
		}
		sb.WriteString("}\n")
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hclString quotes s as an HCL string literal: JSON's escapes (which HCL
// shares), and the template sequences ${ and %{ doubled.
func hclString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	q := strings.TrimSpace(b.String())
	q = strings.ReplaceAll(q, "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// What neither a plan nor terraform test can see.

type block struct {
	file string
	*hclsyntax.Block
}

func load(t *testing.T) []block {
	t.Helper()
	names, err := filepath.Glob("*.tf")
	if err != nil || len(names) == 0 {
		t.Fatalf("no .tf files found: %v", err)
	}
	var blocks []block
	p := hclparse.NewParser()
	for _, name := range names {
		f, diags := p.ParseHCLFile(name)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", name, diags.Error())
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			blocks = append(blocks, block{name, b})
		}
	}
	return blocks
}

// Files by domain (STYLE.md): a reader finds each resource where its kind lives.
func TestFilesByDomain(t *testing.T) {
	t.Parallel()
	want := map[string]string{ // resource type -> the file it belongs in
		"aws_cognito_user_pool":            "cognito.tf",
		"aws_cognito_user_pool_client":     "cognito.tf",
		"aws_lambda_function":              "lambda.tf",
		"aws_lambda_permission":            "lambda.tf",
		"aws_apigatewayv2_api":             "api.tf",
		"aws_apigatewayv2_route":           "api.tf",
		"aws_apigatewayv2_stage":           "api.tf",
		"aws_apigatewayv2_authorizer":      "api.tf",
		"aws_sesv2_email_identity":         "ses.tf",
		"aws_iam_role":                     "iam.tf",
		"aws_iam_role_policy":              "iam.tf",
		"aws_dynamodb_table":               "links.tf",
		"aws_cloudwatch_metric_alarm":      "alarms.tf",
		"aws_cloudwatch_log_metric_filter": "alarms.tf",
		"aws_sns_topic":                    "alarms.tf",
	}
	for _, b := range load(t) {
		switch {
		case b.Type == "resource":
			if file, ok := want[b.Labels[0]]; ok && b.file != file {
				t.Errorf("%s.%s is in %s, want %s", b.Labels[0], b.Labels[1], b.file, file)
			}
		case b.Type == "variable" && b.file != "variables.tf",
			b.Type == "output" && b.file != "outputs.tf",
			b.Type == "terraform" && b.file != "versions.tf":
			t.Errorf("%s %q belongs in its own file, not %s", b.Type, b.Labels, b.file)
		}
	}
}

// Least privilege beyond the one inline policy the plan checks exactly: no
// managed policies, no second policy attached elsewhere.
func TestNoOtherPolicies(t *testing.T) {
	t.Parallel()
	for _, b := range load(t) {
		if b.Type == "resource" && slices.Contains([]string{"aws_iam_role_policy_attachment", "aws_iam_policy", "aws_iam_policy_attachment"}, b.Labels[0]) {
			t.Errorf("%s: %s.%s grants more than the code calls", b.file, b.Labels[0], b.Labels[1])
		}
	}
}

// The module needs hashicorp/aws alone (make build writes the zip), in a
// range that takes 5.100, which CI plans with, and every 6.x.
func TestOnlyTheAWSProvider(t *testing.T) {
	t.Parallel()
	for _, b := range load(t) {
		if b.Type != "terraform" {
			continue
		}
		for _, rp := range b.Body.Blocks {
			if rp.Type != "required_providers" {
				continue
			}
			if len(rp.Body.Attributes) != 1 {
				t.Errorf("required_providers names %d providers, want only aws", len(rp.Body.Attributes))
			}
			v, diags := rp.Body.Attributes["aws"].Expr.Value(nil)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := v.GetAttr("version").AsString(); got != ">= 5.100, < 7.0" {
				t.Errorf("aws version = %q, want \">= 5.100, < 7.0\"", got)
			}
		}
	}
	for _, b := range load(t) {
		// terraform_data is built into Terraform itself: no provider to fetch.
		if (b.Type == "data" || b.Type == "resource") && !strings.HasPrefix(b.Labels[0], "aws_") && b.Labels[0] != "terraform_data" {
			t.Errorf("%s %s.%s needs a provider other than aws", b.Type, b.Labels[0], b.Labels[1])
		}
	}
}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// terraform test would only warn about a variable the example sets that does
// not exist; a required one it forgets fails every run, but say which.
func TestTfvarsExampleNamesDeclaredVariables(t *testing.T) {
	t.Parallel()
	vars := map[string]bool{} // name -> has a default
	for _, b := range load(t) {
		if b.Type == "variable" {
			_, ok := b.Body.Attributes["default"]
			vars[b.Labels[0]] = ok
		}
	}
	src, err := os.ReadFile("terraform.tfvars.example")
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, "terraform.tfvars.example", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	attrs := f.Body.(*hclsyntax.Body).Attributes
	for name := range attrs {
		if _, ok := vars[name]; !ok {
			t.Errorf("terraform.tfvars.example sets %s, which is not a variable", name)
		}
	}
	for name, hasDefault := range vars {
		if _, ok := attrs[name]; !ok && !hasDefault {
			t.Errorf("required variable %s is missing from terraform.tfvars.example", name)
		}
	}
	// The commented-out lines name variables too: a renamed one must not linger.
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if name, _, ok := strings.Cut(strings.TrimPrefix(line, "# "), " ="); ok && strings.HasPrefix(line, "# ") && identifier.MatchString(strings.TrimSpace(name)) {
			name = strings.TrimSpace(name)
			if _, declared := vars[name]; !declared {
				t.Errorf("terraform.tfvars.example mentions %s, which is not a variable", name)
			}
		}
	}
}
