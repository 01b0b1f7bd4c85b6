package terraform_test

// These tests read the Terraform configuration as HCL, offline (no provider,
// no AWS), and check the invariants that make the deployment work and stay
// least-privilege. Each one names the file and resource it looks at, so a
// failure says what drifted.

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// config is every .tf file of the folder, parsed.
type config struct {
	src    map[string][]byte // file name -> bytes
	blocks []block
}

type block struct {
	file string
	*hclsyntax.Block
}

func load(t *testing.T) *config {
	t.Helper()
	names, err := filepath.Glob("*.tf")
	if err != nil || len(names) == 0 {
		t.Fatalf("no .tf files found: %v", err)
	}
	c := &config{src: map[string][]byte{}}
	p := hclparse.NewParser()
	for _, name := range names {
		f, diags := p.ParseHCLFile(name)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", name, diags.Error())
		}
		c.src[name] = f.Bytes
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			c.blocks = append(c.blocks, block{name, b})
		}
	}
	return c
}

// all returns the top-level blocks of a type whose labels start with labels.
func (c *config) all(typ string, labels ...string) []block {
	var out []block
	for _, b := range c.blocks {
		if b.Type == typ && len(b.Labels) >= len(labels) && slices.Equal(b.Labels[:len(labels)], labels) {
			out = append(out, b)
		}
	}
	return out
}

// one returns the single top-level block with exactly these labels.
func (c *config) one(t *testing.T, typ string, labels ...string) block {
	t.Helper()
	bs := c.all(typ, labels...)
	if len(bs) != 1 {
		t.Fatalf("want exactly one %s %q, found %d", typ, labels, len(bs))
	}
	return bs[0]
}

func (c *config) variable(t *testing.T, name string) block {
	t.Helper()
	return c.one(t, "variable", name)
}

func (c *config) local(t *testing.T, name string) *hclsyntax.Attribute {
	t.Helper()
	for _, b := range c.all("locals") {
		if a, ok := b.Body.Attributes[name]; ok {
			return a
		}
	}
	t.Fatalf("local.%s is not defined", name)
	return nil
}

// text is the expression's source, with runs of white space folded.
func (c *config) text(file string, e hclsyntax.Expression) string {
	r := e.Range()
	return strings.Join(strings.Fields(string(c.src[file][r.Start.Byte:r.End.Byte])), " ")
}

func attr(t *testing.T, b block, name string) *hclsyntax.Attribute {
	t.Helper()
	a, ok := b.Body.Attributes[name]
	if !ok {
		t.Fatalf("%s: %s %q has no attribute %q", b.file, b.Type, b.Labels, name)
	}
	return a
}

func nested(t *testing.T, b block, typ string) block {
	t.Helper()
	var found []block
	for _, n := range b.Body.Blocks {
		if n.Type == typ {
			found = append(found, block{b.file, n})
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %s %q: want one %s block, found %d", b.file, b.Type, b.Labels, typ, len(found))
	}
	return found[0]
}

// literal evaluates an expression that must not refer to anything.
func literal(t *testing.T, b block, name string) cty.Value {
	t.Helper()
	v, diags := attr(t, b, name).Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s: %s %q: %s is not a literal: %s", b.file, b.Type, b.Labels, name, diags.Error())
	}
	return v
}

func strs(t *testing.T, v cty.Value) []string {
	t.Helper()
	if !v.CanIterateElements() {
		t.Fatalf("want a list, got %s", v.GoString())
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String {
			t.Fatalf("want strings, got %s", e.GoString())
		}
		out = append(out, e.AsString())
	}
	return out
}

// ref is the traversal an expression consists of, e.g. "var.name"; "" if it is
// anything else.
func ref(e hclsyntax.Expression) string {
	st, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return ""
	}
	var sb strings.Builder
	for _, step := range st.Traversal {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			sb.WriteString("[" + s.Key.GoString() + "]")
		}
	}
	return sb.String()
}

func wantRef(t *testing.T, b block, name, want string) {
	t.Helper()
	if got := ref(attr(t, b, name).Expr); got != want {
		t.Errorf("%s: %s %q: %s = %q, want %q", b.file, b.Type, b.Labels, name, got, want)
	}
}

func wantLiteral(t *testing.T, b block, name string, want cty.Value) {
	t.Helper()
	got := literal(t, b, name)
	if converted, err := convert.Convert(got, want.Type()); err == nil {
		got = converted
	}
	if !got.RawEquals(want) {
		t.Errorf("%s: %s %q: %s = %s, want %s", b.file, b.Type, b.Labels, name, got.GoString(), want.GoString())
	}
}

// refs lists every traversal in a block body, nested blocks included.
func refs(body *hclsyntax.Body) []string {
	var out []string
	for _, a := range body.Attributes {
		for _, tr := range a.Expr.Variables() {
			out = append(out, ref(&hclsyntax.ScopeTraversalExpr{Traversal: tr}))
		}
	}
	for _, b := range body.Blocks {
		out = append(out, refs(b.Body)...)
	}
	return out
}

// objectKeys collects the literal keys of every object constructor inside e
// (through merge(), conditionals and so on).
func objectKeys(t *testing.T, e hclsyntax.Expression) map[string]hclsyntax.Expression {
	t.Helper()
	keys := map[string]hclsyntax.Expression{}
	hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		obj, ok := n.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil
		}
		for _, item := range obj.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || k.Type() != cty.String {
				t.Fatalf("object key %T is not a literal string", item.KeyExpr)
			}
			keys[k.AsString()] = item.ValueExpr
		}
		return nil
	})
	return keys
}

func TestFormatIsCanonical(t *testing.T) {
	t.Parallel()
	names, _ := filepath.Glob("*.tf")
	names = append(names, ".tflint.hcl", "terraform.tfvars.example")
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := hclwrite.Format(src); !bytes.Equal(got, src) {
			t.Errorf("%s is not in canonical format: run terraform fmt", name)
		}
	}
}

func TestFilesByDomain(t *testing.T) {
	t.Parallel()
	c := load(t)
	want := map[string]string{ // resource type -> the file it belongs in
		"aws_cognito_user_pool":        "cognito.tf",
		"aws_cognito_user_pool_client": "cognito.tf",
		"aws_lambda_function":          "lambda.tf",
		"aws_lambda_permission":        "lambda.tf",
		"aws_apigatewayv2_api":         "api.tf",
		"aws_apigatewayv2_route":       "api.tf",
		"aws_apigatewayv2_stage":       "api.tf",
		"aws_apigatewayv2_authorizer":  "api.tf",
		"aws_sesv2_email_identity":     "ses.tf",
		"aws_iam_role":                 "iam.tf",
		"aws_iam_role_policy":          "iam.tf",
	}
	for typ, file := range want {
		bs := c.all("resource", typ)
		if len(bs) == 0 {
			t.Errorf("no %s resource", typ)
		}
		for _, b := range bs {
			if b.file != file {
				t.Errorf("%s.%s is in %s, want %s", typ, b.Labels[1], b.file, file)
			}
		}
	}
	for _, b := range c.blocks {
		switch {
		case b.Type == "variable" && b.file != "variables.tf",
			b.Type == "output" && b.file != "outputs.tf",
			b.Type == "terraform" && b.file != "versions.tf":
			t.Errorf("%s %q belongs in its own file, not %s", b.Type, b.Labels, b.file)
		}
	}
}

func TestVersionsPinned(t *testing.T) {
	t.Parallel()
	c := load(t)
	tf := c.one(t, "terraform")
	if v := literal(t, tf, "required_version").AsString(); !strings.Contains(v, "<") && !strings.Contains(v, "~>") {
		t.Errorf("required_version %q has no upper bound", v)
	}
	rp := nested(t, tf, "required_providers")
	for _, name := range []string{"aws", "archive"} {
		v := literal(t, rp, name)
		if !v.Type().IsObjectType() || !v.Type().HasAttribute("version") || !v.Type().HasAttribute("source") {
			t.Errorf("provider %s: want source and version", name)
			continue
		}
		if ver := v.GetAttr("version").AsString(); !strings.Contains(ver, "~>") && !strings.Contains(ver, "<") {
			t.Errorf("provider %s version %q has no upper bound", name, ver)
		}
	}
}

func TestVariablesTypedAndDescribed(t *testing.T) {
	t.Parallel()
	c := load(t)
	vars := c.all("variable")
	if len(vars) == 0 {
		t.Fatal("no variables")
	}
	for _, v := range vars {
		if _, ok := v.Body.Attributes["type"]; !ok {
			t.Errorf("variable %s has no type", v.Labels[0])
		}
		if d, ok := v.Body.Attributes["description"]; !ok {
			t.Errorf("variable %s has no description", v.Labels[0])
		} else if s, diags := d.Expr.Value(nil); diags.HasErrors() || strings.TrimSpace(s.AsString()) == "" {
			t.Errorf("variable %s has an empty description", v.Labels[0])
		}
	}
	for _, o := range c.all("output") {
		if _, ok := o.Body.Attributes["description"]; !ok {
			t.Errorf("output %s has no description", o.Labels[0])
		}
	}
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	c := load(t)
	want := map[string]string{
		"sign_in_url":         "local.sign_in_url",
		"api_url":             "aws_apigatewayv2_api.this.api_endpoint",
		"user_pool_id":        "aws_cognito_user_pool.this.id",
		"user_pool_client_id": "aws_cognito_user_pool_client.this.id",
		"function_name":       "aws_lambda_function.this.function_name",
	}
	for name, value := range want {
		wantRef(t, c.one(t, "output", name), "value", value)
	}
}

// terraformFuncs are the Terraform functions the validations use, enough to
// evaluate them here.
var terraformFuncs = map[string]function.Function{
	"alltrue": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Bool)}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for it := args[0].ElementIterator(); it.Next(); {
				if _, v := it.Element(); v.False() {
					return cty.False, nil
				}
			}
			return cty.True, nil
		},
	}),
	"can":      tryfunc.CanFunc,
	"contains": stdlib.ContainsFunc,
	"floor":    stdlib.FloorFunc,
	"regex":    stdlib.RegexFunc,
	"substr":   stdlib.SubstrFunc,
	"tonumber": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType}},
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], cty.Number)
		},
	}),
	"trimspace":  stdlib.TrimSpaceFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"try":        tryfunc.TryFunc,
}

// valid runs every validation of a variable on a value.
func valid(t *testing.T, v block, value cty.Value) bool {
	t.Helper()
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Labels[0]: value})},
		Functions: terraformFuncs,
	}
	n := 0
	for _, b := range v.Body.Blocks {
		if b.Type != "validation" {
			continue
		}
		n++
		got, diags := b.Body.Attributes["condition"].Expr.Value(ctx)
		if diags.HasErrors() {
			t.Fatalf("variable %s: condition: %s", v.Labels[0], diags.Error())
		}
		if got.False() {
			return false
		}
	}
	if n == 0 {
		t.Fatalf("variable %s has no validation", v.Labels[0])
	}
	return true
}

func TestValidations(t *testing.T) {
	t.Parallel()
	c := load(t)
	n := cty.NumberIntVal
	s := cty.StringVal
	cases := map[string]struct {
		good, bad []cty.Value
	}{
		"feature_plan":           {good: []cty.Value{s("LITE"), s("ESSENTIALS"), s("PLUS")}, bad: []cty.Value{s("lite"), s("PRO")}},
		"architecture":           {good: []cty.Value{s("arm64"), s("x86_64")}, bad: []cty.Value{s("amd64"), s("")}},
		"log_retention_days":     {good: []cty.Value{n(1), n(30), n(3653)}, bad: []cty.Value{n(0), n(31), n(4000)}},
		"timeout":                {good: []cty.Value{n(1), n(4)}, bad: []cty.Value{n(0), n(5), n(30), cty.NumberFloatVal(2.5)}},
		"auth_session_validity":  {good: []cty.Value{n(3), n(15)}, bad: []cty.Value{n(2), n(16)}},
		"access_token_validity":  {good: []cty.Value{n(5), n(1440)}, bad: []cty.Value{n(4), n(1441)}},
		"id_token_validity":      {good: []cty.Value{n(5), n(1440)}, bad: []cty.Value{n(4), n(1441)}},
		"refresh_token_validity": {good: []cty.Value{n(1), n(3650)}, bad: []cty.Value{n(0), n(3651)}},
		"max_attempts":           {good: []cty.Value{n(1), n(10)}, bad: []cty.Value{n(0), n(11)}},
		"link_ttl":               {good: []cty.Value{s("1m"), s("60s"), s("15m"), s("24h")}, bad: []cty.Value{s("59s"), s("25h"), s("1h30m"), s("15"), s("")}},
		"resend_interval":        {good: []cty.Value{s("0s"), s("1m"), s("1h")}, bad: []cty.Value{s("61m"), s("-1s"), s("off")}},
		"login_min_duration":     {good: []cty.Value{s("0ms"), s("800ms"), s("3s"), s("3000ms")}, bad: []cty.Value{s("4s"), s("3001ms"), s("1m"), s("-1ms"), s("fast")}},
		"sign_up":                {good: []cty.Value{s("off"), s("auto")}, bad: []cty.Value{s("on"), s("")}},
		"sign_in_url":            {good: []cty.Value{cty.NullVal(cty.String), s("https://app.example.com/sign-in")}, bad: []cty.Value{s("https://app.example.com/sign-in#x"), s("app.example.com")}},
		"allowed_origins":        {good: []cty.Value{cty.ListValEmpty(cty.String), cty.ListVal([]cty.Value{s("https://app.example.com")})}, bad: []cty.Value{cty.ListVal([]cty.Value{s("https://app.example.com/")})}},
		"email_from":             {good: []cty.Value{s("Example <no-reply@example.com>"), s("no-reply@example.com")}, bad: []cty.Value{s("Example"), s("<a@b.c")}},
		"ses_identity":           {good: []cty.Value{s("example.com"), s("no-reply@example.com")}, bad: []cty.Value{s("Example <no-reply@example.com>"), s("localhost")}},
		"ses_sandbox_recipients": {
			good: []cty.Value{cty.ListValEmpty(cty.String), cty.ListVal([]cty.Value{s("alice@example.com"), s("bob.o+test@mail.example.org")})},
			bad: []cty.Value{
				cty.ListVal([]cty.Value{s("alice@example.com"), s("*@example.com")}),
				cty.ListVal([]cty.Value{s("a?ice@example.com")}),
				cty.ListVal([]cty.Value{s("${aws:username}@example.com")}),
				cty.ListVal([]cty.Value{s("Alice <alice@example.com>")}),
				cty.ListVal([]cty.Value{s("example.com")}),
				cty.ListVal([]cty.Value{s("alice@*")}),
				cty.ListVal([]cty.Value{s("")}),
			},
		},
	}
	for name, tc := range cases {
		v := c.variable(t, name)
		for _, val := range tc.good {
			if !valid(t, v, val) {
				t.Errorf("variable %s rejects %s", name, val.GoString())
			}
		}
		for _, val := range tc.bad {
			if valid(t, v, val) {
				t.Errorf("variable %s accepts %s", name, val.GoString())
			}
		}
		if d, ok := v.Body.Attributes["default"]; ok {
			dv, _ := d.Expr.Value(nil)
			if !valid(t, v, dv) {
				t.Errorf("variable %s rejects its own default %s", name, dv.GoString())
			}
		}
	}
}

func TestUserPool(t *testing.T) {
	t.Parallel()
	c := load(t)
	pool := c.one(t, "resource", "aws_cognito_user_pool", "this")

	if got := strs(t, literal(t, pool, "username_attributes")); !slices.Equal(got, []string{"email"}) {
		t.Errorf("username_attributes = %q, want [email]", got)
	}
	wantLiteral(t, nested(t, pool, "username_configuration"), "case_sensitive", cty.False)

	// Recovery is admin-only: no mechanism that would mail or text a code.
	recovery := nested(t, pool, "account_recovery_setting")
	for _, m := range recovery.Body.Blocks {
		if v, _ := m.Body.Attributes["name"].Expr.Value(nil); v.AsString() != "admin_only" {
			t.Errorf("account recovery mechanism %q, want only admin_only", v.AsString())
		}
	}
	if len(recovery.Body.Blocks) != 1 {
		t.Errorf("want one recovery mechanism (admin_only), got %d", len(recovery.Body.Blocks))
	}

	wantRef(t, pool, "user_pool_tier", "var.feature_plan")
	wantLiteral(t, c.variable(t, "feature_plan"), "default", cty.StringVal("LITE"))

	if got := c.text(pool.file, attr(t, pool, "deletion_protection").Expr); got != `var.deletion_protection ? "ACTIVE" : "INACTIVE"` {
		t.Errorf("deletion_protection = %s", got)
	}
	wantLiteral(t, c.variable(t, "deletion_protection"), "default", cty.True)

	if got := c.text(pool.file, attr(t, nested(t, pool, "admin_create_user_config"), "allow_admin_create_user_only").Expr); got != "!var.self_sign_up" {
		t.Errorf("allow_admin_create_user_only = %s, want !var.self_sign_up", got)
	}

	schema := nested(t, pool, "schema")
	wantLiteral(t, schema, "name", cty.StringVal("authChallenge"))
	wantLiteral(t, schema, "attribute_data_type", cty.StringVal("String"))
	wantLiteral(t, schema, "mutable", cty.True)
	wantLiteral(t, nested(t, schema, "string_attribute_constraints"), "max_length", cty.NumberIntVal(2048))
}

func TestTriggersBreakTheCycle(t *testing.T) {
	t.Parallel()
	c := load(t)
	pool := c.one(t, "resource", "aws_cognito_user_pool", "this")
	lc := nested(t, pool, "lambda_config")
	triggers := []string{"define_auth_challenge", "create_auth_challenge", "verify_auth_challenge_response", "pre_sign_up", "post_authentication"}
	for _, name := range triggers {
		wantRef(t, lc, name, "local.function_arn")
	}
	if len(lc.Body.Attributes) != len(triggers) {
		t.Errorf("lambda_config has %d triggers, want exactly %v", len(lc.Body.Attributes), triggers)
	}

	// The built ARN names the same function the pool's triggers must reach.
	arn := c.local(t, "function_arn")
	if got := c.text("main.tf", arn.Expr); !strings.HasSuffix(got, `:function:${local.function_name}"`) || !strings.Contains(got, ":lambda:") {
		t.Errorf("local.function_arn = %s, want a Lambda function ARN ending in local.function_name", got)
	}
	wantRef(t, c.one(t, "resource", "aws_lambda_function", "this"), "function_name", "local.function_name")

	// The pool must not depend on the function (that is the cycle), while the
	// function depends on the pool.
	for _, r := range refs(pool.Body) {
		if strings.HasPrefix(r, "aws_lambda_function.") {
			t.Errorf("the user pool refers to %s: dependency cycle with the function", r)
		}
	}
}

func TestAppClient(t *testing.T) {
	t.Parallel()
	c := load(t)
	client := c.one(t, "resource", "aws_cognito_user_pool_client", "this")
	wantRef(t, client, "user_pool_id", "aws_cognito_user_pool.this.id")
	wantLiteral(t, client, "generate_secret", cty.False)
	flows := strs(t, literal(t, client, "explicit_auth_flows"))
	sort.Strings(flows)
	if want := []string{"ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}; !slices.Equal(flows, want) {
		t.Errorf("explicit_auth_flows = %q, want %q", flows, want)
	}
	wantLiteral(t, client, "prevent_user_existence_errors", cty.StringVal("ENABLED"))
	for _, name := range []string{"read_attributes", "write_attributes"} {
		got := strs(t, literal(t, client, name))
		// Empty lets Cognito decide what the client may touch.
		if len(got) == 0 {
			t.Errorf("%s is empty; list the attributes explicitly", name)
		}
		for _, a := range got {
			if strings.HasPrefix(a, "custom:") {
				t.Errorf("%s includes %s: the client must not reach the challenge attribute", name, a)
			}
		}
	}
	for name, v := range map[string]string{
		"auth_session_validity":  "var.auth_session_validity",
		"access_token_validity":  "var.access_token_validity",
		"id_token_validity":      "var.id_token_validity",
		"refresh_token_validity": "var.refresh_token_validity",
	} {
		wantRef(t, client, name, v)
	}
}

func TestFunction(t *testing.T) {
	t.Parallel()
	c := load(t)
	fn := c.one(t, "resource", "aws_lambda_function", "this")
	wantLiteral(t, fn, "runtime", cty.StringVal("provided.al2023"))
	wantLiteral(t, fn, "handler", cty.StringVal("bootstrap"))
	if got := c.text(fn.file, attr(t, fn, "architectures").Expr); got != "[var.architecture]" {
		t.Errorf("architectures = %s, want [var.architecture]", got)
	}
	wantLiteral(t, c.variable(t, "architecture"), "default", cty.StringVal("arm64"))
	wantRef(t, fn, "filename", "data.archive_file.bootstrap.output_path")
	wantRef(t, fn, "source_code_hash", "data.archive_file.bootstrap.output_base64sha256")
	wantRef(t, fn, "role", "aws_iam_role.this.arn")

	zip := c.one(t, "data", "archive_file", "bootstrap")
	if got := c.text(zip.file, attr(t, zip, "source_file").Expr); !strings.Contains(got, "var.bootstrap_path") || !strings.Contains(got, `"${path.module}/../build/bootstrap"`) {
		t.Errorf("archive source_file = %s, want var.bootstrap_path defaulting to ${path.module}/../build/bootstrap", got)
	}

	// Under Cognito's 5 s trigger limit, whatever the variable's value.
	wantRef(t, fn, "timeout", "var.timeout")
	if d := literal(t, c.variable(t, "timeout"), "default"); d.GreaterThanOrEqualTo(cty.NumberIntVal(5)).True() {
		t.Errorf("default timeout %s is not under 5 s", d.GoString())
	}

	logs := nested(t, fn, "logging_config")
	wantRef(t, logs, "log_group", "aws_cloudwatch_log_group.function.name")
	group := c.one(t, "resource", "aws_cloudwatch_log_group", "function")
	wantRef(t, group, "retention_in_days", "var.log_retention_days")
	if got := c.text(group.file, attr(t, group, "name").Expr); got != `"/aws/lambda/${local.function_name}"` {
		t.Errorf("function log group name = %s", got)
	}

	// DESIGN.md "Contract: configuration".
	env := objectKeys(t, attr(t, nested(t, fn, "environment"), "variables").Expr)
	want := map[string]string{
		"USER_POOL_ID":          "aws_cognito_user_pool.this.id",
		"USER_POOL_CLIENT_ID":   "aws_cognito_user_pool_client.this.id",
		"EMAIL_FROM":            "var.email_from",
		"SIGN_IN_URL":           "local.sign_in_url",
		"LINK_TTL":              "var.link_ttl",
		"RESEND_INTERVAL":       "var.resend_interval",
		"LOGIN_MIN_DURATION":    "var.login_min_duration",
		"SIGN_UP":               "var.sign_up",
		"MAX_ATTEMPTS":          "",
		"ALLOWED_ORIGINS":       "",
		"SES_CONFIGURATION_SET": "var.ses_configuration_set",
	}
	for name, wantRef := range want {
		e, ok := env[name]
		if !ok {
			t.Errorf("environment lacks %s", name)
			continue
		}
		if wantRef != "" && ref(e) != wantRef {
			t.Errorf("environment %s = %q, want %s", name, ref(e), wantRef)
		}
	}
	for name := range env {
		if _, ok := want[name]; !ok {
			t.Errorf("environment sets %s, which the function does not read", name)
		}
	}

	// The default sign-in page is the API's own GET /sign-in.
	if got := c.text("main.tf", c.local(t, "sign_in_url").Expr); got != `coalesce(var.sign_in_url, "${aws_apigatewayv2_api.this.api_endpoint}/sign-in")` {
		t.Errorf("local.sign_in_url = %s", got)
	}
}

func TestInvokePermissions(t *testing.T) {
	t.Parallel()
	c := load(t)
	want := map[string]string{ // principal -> what source_arn must be built from
		"cognito-idp.amazonaws.com": "aws_cognito_user_pool.this.arn",
		"apigateway.amazonaws.com":  "aws_apigatewayv2_api.this.execution_arn",
	}
	seen := map[string]bool{}
	for _, p := range c.all("resource", "aws_lambda_permission") {
		principal := literal(t, p, "principal").AsString()
		wantLiteral(t, p, "action", cty.StringVal("lambda:InvokeFunction"))
		wantRef(t, p, "function_name", "aws_lambda_function.this.function_name")
		src, ok := p.Body.Attributes["source_arn"]
		if !ok {
			t.Errorf("permission for %s has no source_arn: any %s resource could invoke the function", principal, principal)
			continue
		}
		if !slices.Contains(refs(&hclsyntax.Body{Attributes: hclsyntax.Attributes{"source_arn": src}}), want[principal]) {
			t.Errorf("permission for %s: source_arn = %s, want it built from %s", principal, c.text(p.file, src.Expr), want[principal])
		}
		seen[principal] = true
	}
	for principal := range want {
		if !seen[principal] {
			t.Errorf("no permission for %s to invoke the function", principal)
		}
	}
}

func TestExecutionRole(t *testing.T) {
	t.Parallel()
	c := load(t)
	if bs := c.all("resource", "aws_iam_role_policy_attachment"); len(bs) > 0 {
		t.Errorf("managed policy attachments grant more than the code calls: %d found", len(bs))
	}
	wantRef(t, c.one(t, "resource", "aws_iam_role_policy", "this"), "policy", "data.aws_iam_policy_document.this.json")
	wantRef(t, c.one(t, "resource", "aws_iam_role", "this"), "assume_role_policy", "data.aws_iam_policy_document.assume.json")

	doc := c.one(t, "data", "aws_iam_policy_document", "this")
	// action -> what its resources must be built from
	want := map[string][]string{
		"cognito-idp:AdminGetUser":              {"aws_cognito_user_pool.this.arn"},
		"cognito-idp:AdminCreateUser":           {"aws_cognito_user_pool.this.arn"},
		"cognito-idp:AdminSetUserPassword":      {"aws_cognito_user_pool.this.arn"},
		"cognito-idp:AdminUpdateUserAttributes": {"aws_cognito_user_pool.this.arn"},
		"ses:SendEmail":                         {"local.ses_identity_arn", "local.ses_configuration_set_arn", "local.ses_sandbox_recipient_arns"},
		"logs:CreateLogStream":                  {"aws_cloudwatch_log_group.function.arn"},
		"logs:PutLogEvents":                     {"aws_cloudwatch_log_group.function.arn"},
	}
	got := map[string]bool{}
	for _, st := range doc.Body.Blocks {
		s := block{doc.file, st}
		if st.Type != "statement" {
			continue
		}
		if e, ok := st.Body.Attributes["effect"]; ok {
			if v, _ := e.Expr.Value(nil); v.AsString() != "Allow" {
				t.Errorf("statement with effect %s", v.AsString())
			}
		}
		if _, ok := st.Body.Attributes["not_actions"]; ok {
			t.Error("not_actions grants everything else")
		}
		if _, ok := st.Body.Attributes["not_resources"]; ok {
			t.Error("not_resources grants everything else")
		}
		actions := strs(t, literal(t, s, "actions"))
		res := attr(t, s, "resources")
		resRefs := refs(&hclsyntax.Body{Attributes: hclsyntax.Attributes{"resources": res}})
		if v, diags := res.Expr.Value(nil); !diags.HasErrors() {
			t.Errorf("statement %v: resources are literals %s; scope them to this stack's resources", actions, v.GoString())
		}
		// Every resource is built from this stack's resources or names; a
		// literal ARN ("*", "arn:aws:ses:*:*:identity/*") would reach others.
		hclsyntax.VisitAll(res.Expr, func(n hclsyntax.Node) hcl.Diagnostics {
			if list, ok := n.(*hclsyntax.TupleConsExpr); ok {
				for _, e := range list.Exprs {
					if len(e.Variables()) == 0 {
						t.Errorf("statement %v: literal resource %s", actions, c.text(doc.file, e))
					}
				}
			}
			return nil
		})
		for _, a := range actions {
			if strings.Contains(a, "*") {
				t.Errorf("wildcard action %q", a)
			}
			w, ok := want[a]
			if !ok {
				t.Errorf("action %q is not one the code calls", a)
				continue
			}
			got[a] = true
			sort.Strings(resRefs)
			for _, r := range w {
				if !slices.Contains(resRefs, r) {
					t.Errorf("action %s: resources %s, want them to include %s", a, c.text(doc.file, res.Expr), r)
				}
			}
			for _, r := range resRefs {
				if !slices.Contains(w, r) && !strings.HasPrefix(r, "var.") {
					t.Errorf("action %s also reaches %s", a, r)
				}
			}
		}
	}
	for a := range want {
		if !got[a] {
			t.Errorf("the role lacks %s, which the code calls", a)
		}
	}

	// The built ARNs are the sender identity and the configuration set.
	for name, wantPart := range map[string]string{
		"ses_identity_arn":          ":ses:${local.region}:${local.account_id}:identity/${var.ses_identity}\"",
		"ses_configuration_set_arn": ":ses:${local.region}:${local.account_id}:configuration-set/${var.ses_configuration_set}\"",
	} {
		if got := c.text("main.tf", c.local(t, name).Expr); !strings.HasSuffix(got, wantPart) {
			t.Errorf("local.%s = %s, want it to end with %s", name, got, wantPart)
		}
	}
}

// TestSendMailScope evaluates the SendMail statement as Terraform would, for
// each kind of deployment, and checks the exact resources and the From
// condition: the sender identity, the configuration set when one is set, the
// sandbox testers when listed, and nothing else.
func TestSendMailScope(t *testing.T) {
	t.Parallel()
	c := load(t)
	doc := c.one(t, "data", "aws_iam_policy_document", "this")
	var send *hclsyntax.Block
	for _, st := range doc.Body.Blocks {
		if st.Type != "statement" {
			continue
		}
		if v, _ := st.Body.Attributes["sid"].Expr.Value(nil); v.Type() == cty.String && v.AsString() == "SendMail" {
			send = st
		}
	}
	if send == nil {
		t.Fatal(`no statement with sid "SendMail"`)
	}
	cond := nested(t, block{doc.file, send}, "condition")

	const prefix = "arn:aws:ses:eu-west-1:123456789012:"
	s := cty.StringVal
	list := func(xs ...string) cty.Value {
		if len(xs) == 0 {
			return cty.ListValEmpty(cty.String)
		}
		var vs []cty.Value
		for _, x := range xs {
			vs = append(vs, s(x))
		}
		return cty.ListVal(vs)
	}
	cases := map[string]struct {
		emailFrom, identity, configSet string
		recipients                     []string
		want                           []string
		wantFrom                       string
	}{
		"domain identity, production": {
			emailFrom: "Example <no-reply@example.com>", identity: "example.com",
			want:     []string{prefix + "identity/example.com"},
			wantFrom: "no-reply@example.com",
		},
		"address identity with configuration set": {
			emailFrom: "no-reply@example.com", identity: "no-reply@example.com", configSet: "magic-links",
			want:     []string{prefix + "identity/no-reply@example.com", prefix + "configuration-set/magic-links"},
			wantFrom: "no-reply@example.com",
		},
		"sandbox testers": {
			emailFrom: `  "support@example.com" <no-reply@example.com> `, identity: "example.com", configSet: "magic-links",
			recipients: []string{"alice@example.com", "bob@example.org"},
			want: []string{
				prefix + "identity/example.com",
				prefix + "configuration-set/magic-links",
				prefix + "identity/alice@example.com",
				prefix + "identity/bob@example.org",
			},
			wantFrom: "no-reply@example.com",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := &hcl.EvalContext{
				Variables: map[string]cty.Value{
					"var": cty.ObjectVal(map[string]cty.Value{
						"email_from":             s(tc.emailFrom),
						"ses_identity":           s(tc.identity),
						"ses_configuration_set":  s(tc.configSet),
						"ses_sandbox_recipients": list(tc.recipients...),
					}),
				},
				Functions: map[string]function.Function{
					"concat":    stdlib.ConcatFunc,
					"regex":     stdlib.RegexFunc,
					"trimspace": stdlib.TrimSpaceFunc,
				},
			}
			locals := map[string]cty.Value{"partition": s("aws"), "region": s("eu-west-1"), "account_id": s("123456789012")}
			ctx.Variables["local"] = cty.ObjectVal(locals)
			for _, name := range []string{"ses_identity_arn", "ses_configuration_set_arn", "ses_sandbox_recipient_arns", "ses_from_address"} {
				v, diags := c.local(t, name).Expr.Value(ctx)
				if diags.HasErrors() {
					t.Fatalf("local.%s: %s", name, diags.Error())
				}
				locals[name] = v
			}
			ctx.Variables["local"] = cty.ObjectVal(locals)

			res, diags := send.Body.Attributes["resources"].Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("resources: %s", diags.Error())
			}
			got := strs(t, res)
			if !slices.Equal(got, tc.want) {
				t.Errorf("resources = %q, want %q", got, tc.want)
			}
			for _, r := range got {
				if strings.ContainsAny(r, "*?") {
					t.Errorf("resource %q has a wildcard", r)
				}
			}

			for name, want := range map[string]string{"test": "StringEquals", "variable": "ses:FromAddress"} {
				if v := literal(t, cond, name); v.AsString() != want {
					t.Errorf("condition %s = %q, want %q", name, v.AsString(), want)
				}
			}
			from, diags := cond.Body.Attributes["values"].Expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatalf("condition values: %s", diags.Error())
			}
			if got := strs(t, from); !slices.Equal(got, []string{tc.wantFrom}) {
				t.Errorf("ses:FromAddress values = %q, want [%q]", got, tc.wantFrom)
			}
		})
	}
}

func TestHTTPAPI(t *testing.T) {
	t.Parallel()
	c := load(t)
	api := c.one(t, "resource", "aws_apigatewayv2_api", "this")
	wantLiteral(t, api, "protocol_type", cty.StringVal("HTTP"))
	for _, r := range refs(api.Body) {
		if strings.HasPrefix(r, "aws_lambda_function.") {
			t.Errorf("the API refers to %s: the function's SIGN_IN_URL needs the API first", r)
		}
	}
	var cors *hclsyntax.Block
	for _, b := range api.Body.Blocks {
		if b.Type == "dynamic" && b.Labels[0] == "cors_configuration" {
			cors = b
		}
	}
	if cors == nil {
		t.Error("the API has no cors_configuration")
	} else if !slices.Contains(refs(cors.Body), "local.cors_origins") {
		t.Error("cors_configuration does not use local.cors_origins")
	}
	if got := c.text("main.tf", c.local(t, "cors_origins").Expr); !strings.Contains(got, "var.allowed_origins") {
		t.Errorf("local.cors_origins = %s, want it built from var.allowed_origins", got)
	}

	integ := c.one(t, "resource", "aws_apigatewayv2_integration", "this")
	wantLiteral(t, integ, "integration_type", cty.StringVal("AWS_PROXY"))
	wantLiteral(t, integ, "payload_format_version", cty.StringVal("2.0"))
	wantRef(t, integ, "integration_uri", "aws_lambda_function.this.invoke_arn")

	// route key -> whether it needs the JWT authorizer
	want := map[string]bool{
		"POST /login":          false,
		"GET /":                false,
		"GET /sign-in":         false,
		"GET /config.json":     false,
		"GET /assets/{proxy+}": false,
		"GET /me":              true,
	}
	routes := map[string]block{}
	for _, r := range c.all("resource", "aws_apigatewayv2_route") {
		var keys []string
		if fe, ok := r.Body.Attributes["for_each"]; ok {
			call, ok := fe.Expr.(*hclsyntax.FunctionCallExpr)
			if !ok || call.Name != "toset" || len(call.Args) != 1 {
				t.Fatalf("route %s: for_each must be toset([...literal route keys])", r.Labels[1])
			}
			v, diags := call.Args[0].Value(nil)
			if diags.HasErrors() {
				t.Fatalf("route %s: for_each is not literal: %s", r.Labels[1], diags.Error())
			}
			keys = strs(t, v)
			wantRef(t, r, "route_key", "each.value")
		} else {
			keys = []string{literal(t, r, "route_key").AsString()}
		}
		for _, k := range keys {
			if _, dup := routes[k]; dup {
				t.Errorf("route %s defined twice", k)
			}
			routes[k] = r
		}
		wantRef(t, r, "api_id", "aws_apigatewayv2_api.this.id")
		if got := c.text(r.file, attr(t, r, "target").Expr); got != `"integrations/${aws_apigatewayv2_integration.this.id}"` {
			t.Errorf("route %s: target = %s", r.Labels[1], got)
		}
	}
	for key, jwt := range want {
		r, ok := routes[key]
		if !ok {
			t.Errorf("no route %q", key)
			continue
		}
		_, hasAuth := r.Body.Attributes["authorizer_id"]
		if jwt {
			wantLiteral(t, r, "authorization_type", cty.StringVal("JWT"))
			wantRef(t, r, "authorizer_id", "aws_apigatewayv2_authorizer.this.id")
		} else if hasAuth {
			t.Errorf("route %q has an authorizer; it must be public", key)
		}
	}
	for key := range routes {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected route %q", key)
		}
	}

	auth := c.one(t, "resource", "aws_apigatewayv2_authorizer", "this")
	wantLiteral(t, auth, "authorizer_type", cty.StringVal("JWT"))
	jwt := nested(t, auth, "jwt_configuration")
	if got := c.text(auth.file, attr(t, jwt, "issuer").Expr); got != `"https://${aws_cognito_user_pool.this.endpoint}"` {
		t.Errorf("issuer = %s, want the pool's https endpoint", got)
	}
	if got := c.text(auth.file, attr(t, jwt, "audience").Expr); got != "[aws_cognito_user_pool_client.this.id]" {
		t.Errorf("audience = %s, want [aws_cognito_user_pool_client.this.id]", got)
	}

	stage := c.one(t, "resource", "aws_apigatewayv2_stage", "this")
	wantLiteral(t, stage, "name", cty.StringVal("$default"))
	wantLiteral(t, stage, "auto_deploy", cty.True)
	throttle := nested(t, stage, "default_route_settings")
	wantRef(t, throttle, "throttling_rate_limit", "var.throttling_rate_limit")
	wantRef(t, throttle, "throttling_burst_limit", "var.throttling_burst_limit")
	access := nested(t, stage, "access_log_settings")
	wantRef(t, access, "destination_arn", "aws_cloudwatch_log_group.api_access.arn")
	if got := c.text(stage.file, attr(t, access, "format").Expr); strings.Contains(got, "header") || strings.Contains(got, "querystring") {
		t.Errorf("access log format records headers or query strings: %s", got)
	}
	wantRef(t, c.one(t, "resource", "aws_cloudwatch_log_group", "api_access"), "retention_in_days", "var.log_retention_days")
}

func TestSES(t *testing.T) {
	t.Parallel()
	c := load(t)
	id := c.one(t, "resource", "aws_sesv2_email_identity", "this")
	wantRef(t, id, "email_identity", "var.ses_identity")
	wantLiteral(t, c.variable(t, "ses_configuration_set"), "default", cty.StringVal(""))
	if _, ok := c.variable(t, "ses_identity").Body.Attributes["default"]; ok {
		t.Error("ses_identity has a default; a team must name its verified identity")
	}
}

func TestTfvarsExampleNamesDeclaredVariables(t *testing.T) {
	t.Parallel()
	c := load(t)
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
		if len(c.all("variable", name)) == 0 {
			t.Errorf("terraform.tfvars.example sets %s, which is not a variable", name)
		}
	}
	// Every variable without a default must be set in the example.
	for _, v := range c.all("variable") {
		if _, ok := v.Body.Attributes["default"]; !ok {
			if _, ok := attrs[v.Labels[0]]; !ok {
				t.Errorf("required variable %s is missing from terraform.tfvars.example", v.Labels[0])
			}
		}
	}
}
