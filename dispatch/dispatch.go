// Package dispatch routes each Lambda invocation by the shape of its event:
// Cognito triggers to the trigger handlers, API Gateway requests (HTTP API
// payload 2.0 and REST API v1 proxy) to the HTTP router, anything else to an
// error for that invocation alone. It writes the invocation's one log line.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"magiclinks/internal/jsonscan"
	"magiclinks/logging"
)

// ErrUnknownEvent is returned for an event of no shape this function serves.
var ErrUnknownEvent = errors.New("dispatch: unknown event shape")

// Kind is the shape of an event.
type Kind string

const (
	KindTrigger Kind = "cognito_trigger"
	KindHTTPv2  Kind = "apigw_v2"
	KindHTTPv1  Kind = "apigw_v1"
)

// Triggers handles a Cognito trigger event and returns the response event.
type Triggers interface {
	Handle(ctx context.Context, payload []byte) ([]byte, error)
}

// Dispatcher implements the lambda.Handler shape.
type Dispatcher struct {
	triggers Triggers
	v1       *httpadapter.HandlerAdapter
	v2       *httpadapter.HandlerAdapterV2
	log      *slog.Logger
	now      func() time.Time
}

// New returns a Dispatcher; log receives one line per invocation.
func New(t Triggers, router http.Handler, log *slog.Logger) *Dispatcher {
	return &Dispatcher{
		triggers: t,
		v1:       httpadapter.New(router),
		v2:       httpadapter.NewV2(router),
		log:      log,
		now:      time.Now,
	}
}

// Sniff tells the kind of an event from a few of its top-level members, in
// one streaming pass that skips the rest (internal/jsonscan). A member of an
// unexpected type counts as absent.
func Sniff(payload []byte) (Kind, error) {
	var trigger, version, method string
	var inContext, withHTTP bool
	_, err := jsonscan.Members(payload, func(name []byte, dec *jsontext.Decoder) (err error) {
		switch string(name) {
		case "triggerSource":
			trigger, err = jsonscan.String(dec)
		case "version":
			version, err = jsonscan.String(dec)
		case "httpMethod":
			method, err = jsonscan.String(dec)
		case "requestContext":
			inContext, withHTTP, err = readRequestContext(dec)
		default:
			err = jsonscan.Skip(dec)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%w: not a JSON object", ErrUnknownEvent)
	}
	switch {
	case trigger != "":
		return KindTrigger, nil
	case version == "2.0" && withHTTP:
		return KindHTTPv2, nil
	case method != "" && inContext:
		return KindHTTPv1, nil
	}
	return "", ErrUnknownEvent
}

// readRequestContext reads whether the value is an object, and whether it
// has a non-null "http" member (HTTP API payload 2.0 has, REST API has not).
func readRequestContext(dec *jsontext.Decoder) (object, withHTTP bool, err error) {
	if dec.PeekKind() != '{' {
		return false, false, jsonscan.Skip(dec)
	}
	_, err = jsonscan.Nested(dec, func(name []byte, dec *jsontext.Decoder) error {
		if string(name) == "http" {
			withHTTP = dec.PeekKind() != 'n'
		}
		return jsonscan.Skip(dec)
	})
	return err == nil, withHTTP, err
}

// Invoke handles one event.
func (d *Dispatcher) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := d.now()
	ctx, line := logging.With(ctx)
	// Stop AWS calls a little before Lambda's deadline, so a slow upstream
	// ends in our own 502 or trigger error, and this log line, rather than a
	// timeout that API Gateway and Cognito report without a word.
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) > 2*DeadlineMargin {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-DeadlineMargin))
		defer cancel()
	}
	kind, err := Sniff(payload)
	var out []byte
	status := 0
	if err == nil {
		out, status, err = d.invoke(ctx, kind, payload)
	}
	d.logLine(ctx, start, kind, line, status, err)
	return out, err
}

// DeadlineMargin is kept free at the end of an invocation to answer and log.
const DeadlineMargin = 300 * time.Millisecond

// invoke handles one event of a known kind; status is the HTTP status for
// API Gateway events.
func (d *Dispatcher) invoke(ctx context.Context, kind Kind, payload []byte) (out []byte, status int, err error) {
	switch kind {
	case KindTrigger:
		out, err = d.triggers.Handle(ctx, payload)
		return out, 0, err
	case KindHTTPv2:
		var req events.APIGatewayV2HTTPRequest
		if err := DecodeHTTP(payload, &req); err != nil {
			return nil, 0, fmt.Errorf("%w: bad HTTP API event: %s", ErrUnknownEvent, decodeFailure(err))
		}
		// The router logs the route's template: a path can carry a secret
		// (GET /login/{request}), so it is never logged here.
		resp, err := d.v2.ProxyWithContext(ctx, req)
		if err != nil {
			// The adapter fails only on an event it cannot turn into a
			// request (a bad path or base64 body): not a shape we serve.
			return nil, 0, fmt.Errorf("%w: HTTP API request: %w", ErrUnknownEvent, err)
		}
		return httpResponse(ctx, resp.StatusCode, resp)
	case KindHTTPv1:
		var req events.APIGatewayProxyRequest
		if err := DecodeHTTP(payload, &req); err != nil {
			return nil, 0, fmt.Errorf("%w: bad REST API event: %s", ErrUnknownEvent, decodeFailure(err))
		}
		resp, err := d.v1.ProxyWithContext(ctx, req)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: REST API request: %w", ErrUnknownEvent, err)
		}
		return httpResponse(ctx, resp.StatusCode, resp)
	}
	return nil, 0, ErrUnknownEvent
}

// DecodeHTTP decodes an API Gateway event with encoding/json's meaning,
// through the v1 API of the encoding/json v2 prototype: the same result
// (FuzzDecodeHTTP checks it against encoding/json), in 40% less time and a
// quarter of the allocations.
func DecodeHTTP[E events.APIGatewayV2HTTPRequest | events.APIGatewayProxyRequest](payload []byte, e *E) error {
	return jsonv1.Unmarshal(payload, e)
}

// decodeFailure says what was wrong with an API Gateway event without any
// of the event in it: a type error's path can hold a header's name and its
// value description a number from the event, and the message is logged.
func decodeFailure(err error) string {
	var typeErr *jsonv1.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		kind, _, _ := strings.Cut(typeErr.Value, " ")
		return fmt.Sprintf("a JSON %s where %s belongs, at byte %d", kind, typeErr.Type, typeErr.Offset)
	}
	var syntaxErr *jsontext.SyntacticError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("malformed JSON at byte %d", syntaxErr.ByteOffset)
	}
	return fmt.Sprintf("not decodable (%T)", err)
}

func httpResponse(ctx context.Context, status int, resp any) ([]byte, int, error) {
	logging.Add(ctx, slog.Int("status", status))
	out, err := json.Marshal(resp)
	return out, status, err
}

func (d *Dispatcher) logLine(ctx context.Context, start time.Time, kind Kind, line *logging.Line, status int, err error) {
	attrs := []slog.Attr{
		slog.String("kind", string(kind)),
		slog.Duration("duration", d.now().Sub(start)),
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		attrs = append(attrs, slog.String("requestId", lc.AwsRequestID))
	}
	attrs = append(attrs, line.Attrs()...)
	level, msg := slog.LevelInfo, "invocation"
	// An upstream failure answered as 502, or one answered 202 on purpose
	// (POST /login after the lookup): alert on it.
	if status >= 500 || line.Failed() {
		level = slog.LevelError
	}
	if err != nil {
		level = slog.LevelError
		if kind == "" {
			attrs[0] = slog.String("kind", "unknown")
		}
		attrs = append(attrs, slog.String("error", logging.Redact(err.Error())))
		// Trigger errors carry a message meant for the client; the cause
		// behind it is what an operator needs.
		if cause := errors.Unwrap(err); cause != nil {
			attrs = append(attrs, slog.String("cause", logging.Redact(cause.Error())))
		}
	}
	d.log.LogAttrs(ctx, level, msg, attrs...)
}
