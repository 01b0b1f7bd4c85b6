// Command magiclinks is the whole product in one binary: deployed as one AWS
// Lambda function it answers API Gateway requests and Cognito's custom-auth
// triggers; run anywhere else it serves the same code on 127.0.0.1 with
// local stand-ins for Cognito and SES (make dev).
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"magiclinks/challenge"
	"magiclinks/cognito"
	"magiclinks/config"
	"magiclinks/dispatch"
	"magiclinks/handlers"
	"magiclinks/links"
	"magiclinks/mailer"
	"magiclinks/userpool"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "magiclinks:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{ReplaceAttr: lambdacontext.ReplaceAttr}))
	// The dispatcher writes the one line per invocation, errors included;
	// aws-lambda-go and the API Gateway adapter would repeat those errors
	// through the standard logger as extra, unstructured lines.
	log.SetOutput(io.Discard)
	if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		return runLocal(ctx, args, getenv, stdout, logger)
	}
	cfg, err := lambdaConfig(getenv)
	if err != nil {
		return err // a Lambda init error naming the variables
	}
	aws, err := lambdaAWS(getenv)
	if err != nil {
		return err // a Lambda init error naming the variable
	}
	app, err := newApp(cfg, lambdaClients(aws, cfg.LinksTable != ""), logger)
	if err != nil {
		return err
	}
	lambda.Start(app.dispatcher)
	return nil
}

// lambdaConfig is config.Load plus the rule only the Lambda has: without
// LINKS_TABLE links live in the Cognito attribute, which keeps no counters,
// so a per-IP limit that was asked for cannot be honoured.
func lambdaConfig(getenv func(string) string) (config.Config, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, err
	}
	if cfg.LinksTable == "" && cfg.LoginLimitSet && !cfg.LoginLimit.Off() {
		return cfg, fmt.Errorf("%w: LOGIN_LIMIT_PER_IP: needs LINKS_TABLE (the Cognito attribute keeps no counters); set LINKS_TABLE or LOGIN_LIMIT_PER_IP=off", config.ErrInvalid)
	}
	// Every instance must read the codes and handles the others made.
	if cfg.LinksTable != "" && cfg.LinkSecret == "" {
		return cfg, fmt.Errorf("%w: LINK_SECRET: required with LINKS_TABLE (at least %d random characters, the same for every instance)", config.ErrInvalid, config.MinLinkSecret)
	}
	// The zip unpacks into the task root (make build puts the templates
	// there); the working directory is not promised to be it.
	if root := getenv("LAMBDA_TASK_ROOT"); cfg.TemplatesDir != "" && !filepath.IsAbs(cfg.TemplatesDir) && root != "" {
		cfg.TemplatesDir = filepath.Join(root, cfg.TemplatesDir)
	}
	return cfg, nil
}

// clients are the concrete AWS clients, made once at start.
type clients struct {
	cognito userpool.API
	ses     mailer.Sender
	// dynamo reaches LINKS_TABLE; nil without one.
	dynamo links.DynamoAPI
	// memory, when set, holds the links in process instead (make dev and
	// tests).
	memory links.Backend
	region string
	now    func() time.Time // time.Now unless a test or the local stack sets it
	rand   io.Reader        // crypto/rand.Reader unless a test sets it
	// wait replaces the /login response-time floor's timer in tests.
	wait func(ctx context.Context, d time.Duration)
	// tokens verifies /me's tokens itself (the local stack); nil in Lambda,
	// where API Gateway's JWT authorizer has verified them before the
	// request arrives.
	tokens handlers.TokenVerifier
}

type app struct {
	dispatcher *dispatch.Dispatcher
	router     http.Handler
}

// newApp wires the packages together; tests call it with fakes.
func newApp(cfg config.Config, c clients, logger *slog.Logger) (*app, error) {
	now := c.now
	if now == nil {
		now = time.Now
	}
	random := c.rand
	if random == nil {
		random = rand.Reader
	}
	pool := userpool.New(c.cognito, cfg.UserPoolID)
	var tmpl *mailer.Templates // nil: the built-in ones, parsed on the first mail
	if cfg.TemplatesDir != "" {
		// With overrides, every template of every language is parsed and
		// tried here, so a broken override stops the start (a Lambda init
		// error) naming its file.
		var err error
		if tmpl, err = mailer.LoadTemplates(os.DirFS(cfg.TemplatesDir)); err != nil {
			return nil, fmt.Errorf("%w: TEMPLATES_DIR %s: %w", config.ErrInvalid, cfg.TemplatesDir, err)
		}
	}
	m, err := mailer.New(c.ses, cfg.EmailFrom, cfg.SESConfigSet, tmpl)
	if err != nil {
		return nil, err
	}
	secret := []byte(cfg.LinkSecret)
	if len(secret) == 0 {
		// The attribute mode (no codes, no approvals) or the local stack:
		// a secret of this process alone will do.
		secret = make([]byte, 32)
		if _, err := io.ReadFull(random, secret); err != nil {
			return nil, fmt.Errorf("making a link secret: %w", err)
		}
	}
	deps := handlers.Deps{
		Config:     cfg,
		Users:      pool,
		RequestKey: challenge.DeriveKey(secret, "request"),
		Mailer:     m,
		Now:        now,
		Rand:       random,
		Wait:       c.wait,
		Region:     c.region,
		Tokens:     c.tokens,
	}
	backend, full := linkStore(cfg, c)
	store := links.New(backend, nil)
	if full {
		// Codes, approvals and counters need a store that compares and sets.
		store = links.New(backend, challenge.DeriveKey(secret, "code"))
		deps.Approvals, deps.Limiter, deps.Codes = store, store, true
	}
	deps.Links = store
	router := handlers.New(deps)
	triggers := &cognito.Triggers{Users: pool, Links: store, Now: now, Rand: random, MaxAttempts: cfg.MaxAttempts}
	return &app{dispatcher: dispatch.New(triggers, router, logger), router: router}, nil
}

// linkStore picks the link store: the in-process one when given (make dev,
// tests), DynamoDB with LINKS_TABLE, else the seed's Cognito attribute. Only
// the first two compare and set, which codes, approvals and counters need.
func linkStore(cfg config.Config, c clients) (b links.Backend, full bool) {
	switch {
	case c.memory != nil:
		return c.memory, true
	case cfg.LinksTable != "" && c.dynamo != nil:
		return links.NewDynamo(c.dynamo, cfg.LinksTable), true
	}
	return links.NewCognitoAttribute(c.cognito, cfg.UserPoolID), false
}
