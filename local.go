//go:build !lambdaonly

// The local stack (make dev): compiled into every build but the Lambda
// artifact, which make build makes with -tags lambdaonly (see lambdaonly.go).

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"magiclinks/config"
	"magiclinks/gateway"
	"magiclinks/handlers"
	"magiclinks/links"
	"magiclinks/local"
)

// runLocal serves the product on 127.0.0.1:$PORT with the local stand-ins for
// Cognito and SES (make dev). The handlers, triggers and SDK clients are the
// ones that run in Lambda; only the endpoints they talk to differ.
func runLocal(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, logger *slog.Logger) error {
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	// Listen first: a busy port fails before anything else starts, and a
	// PORT of 0 picks a free one that the URLs below then name.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("PORT: %w", err)
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()

	region := getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	// Locally every setting has a default, so `go run .` alone works; the
	// URLs follow the port actually bound. The page must call the local
	// Cognito stand-in, not AWS.
	localDefaults := map[string]string{
		"USER_POOL_ID":        "us-east-1_localpool",
		"USER_POOL_CLIENT_ID": "localclient",
		"EMAIL_FROM":          "Magic Links <no-reply@example.com>",
		"SIGN_IN_URL":         base + "/sign-in",
		"COGNITO_ENDPOINT":    base + "/local/cognito",
		// No response-time floor by default: nobody enumerates a laptop,
		// and the load run measures the work itself. Set it to see it.
		"LOGIN_MIN_DURATION": "0s",
	}
	env := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return localDefaults[k]
	}
	cfg, err := config.Load(env)
	if err != nil {
		return err
	}
	if cfg.UserPoolClientID == "" {
		return fmt.Errorf("%w: USER_POOL_CLIENT_ID: required for the local stack", config.ErrInvalid)
	}

	clock := local.NewClock(nil)
	var dispatcher gateway.Invoker // set below; the stand-ins call the triggers through it
	stack, err := local.New(local.Options{
		Region:     region,
		UserPoolID: cfg.UserPoolID,
		ClientID:   cfg.UserPoolClientID,
		BaseURL:    base,
		Triggers:   invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) { return dispatcher.Invoke(ctx, p) }),
		Clock:      clock,
		Logger:     logger,
	})
	if err != nil {
		return err
	}

	// The SDK clients as in Lambda, pointed at the stand-ins through the
	// SDK's own endpoint setting, with dummy credentials: nothing here can
	// reach AWS.
	awsCfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
		RetryMaxAttempts: 3,
	}
	c := clients{
		cognito: cip.NewFromConfig(awsCfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(stack.CognitoEndpoint()) }),
		ses:     sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(stack.SESEndpoint()) }),
		region:  region,
		now:     clock.Now,
	}
	if c.tokens, err = handlers.NewJWTVerifier(stack.Issuer(), cfg.UserPoolClientID, nil, clock.Now); err != nil {
		return err
	}
	// The links live in process unless a DynamoDB stand-in is named (for
	// example dynalite, as make integration runs it).
	storeDesc := "in-process (same rules as DynamoDB; forgotten on restart)"
	if cfg.LinksTable != "" {
		endpoint := getenv("AWS_ENDPOINT_URL_DYNAMODB")
		if endpoint == "" {
			return fmt.Errorf("%w: LINKS_TABLE: locally it needs AWS_ENDPOINT_URL_DYNAMODB (a local DynamoDB such as dynalite); nothing here reaches AWS", config.ErrInvalid)
		}
		c.dynamo = dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
		storeDesc = "DynamoDB table " + cfg.LinksTable + " at " + endpoint
	} else {
		c.memory = links.NewMemory(clock.Now)
	}
	app, err := newApp(cfg, c, logger)
	if err != nil {
		return err
	}
	dispatcher = app.dispatcher

	mux := http.NewServeMux()
	mux.Handle("/local/", stack.Handler())
	// Every other request goes through a stand-in API Gateway into the
	// dispatcher, as it does in AWS.
	mux.Handle("/", gateway.New(app.dispatcher))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, `
  Magic links, running locally (no AWS account needed)

    Sign in:    %[1]s/
    Mailbox:    %[1]s/local/mail      (every "sent" mail lands here)
    Outbox API: %[1]s/local/outbox
    Cognito:    %[1]s/local/cognito   (user pool %[2]s, app client %[3]s)
    Links:      %[5]s

  Sign-up is %[4]s; POST /login per client IP: %[6]s. Press Ctrl-C to stop.

`, base, cfg.UserPoolID, cfg.UserPoolClientID, cfg.SignUp, storeDesc, cfg.LoginLimit)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stdout, "  stopped.")
	return nil
}

type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, p []byte) ([]byte, error) { return f(ctx, p) }
