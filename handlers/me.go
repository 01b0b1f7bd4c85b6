package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"magiclinks/logging"
)

// TokenVerifier checks a Cognito ID or access token and returns its claims.
// Errors wrap ErrInvalidToken when the token is at fault (a 401) and
// anything else when it could not be checked (a 503).
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (Claims, error)
}

// Claims are the verified claims GET /me answers with.
type Claims struct {
	Sub      string
	Email    string // empty for access tokens, which carry no address
	TokenUse string // "id" or "access"
}

// ErrInvalidToken means the token is missing, malformed, forged, expired or
// meant for another pool or client.
var ErrInvalidToken = errors.New("invalid token")

// maxTokenLen bounds what we parse; Cognito's tokens are a few KB.
const maxTokenLen = 16 << 10

type meHandler struct {
	tokens TokenVerifier
}

type meResponse struct {
	Sub   string `json:"sub"`
	Email string `json:"email,omitempty"`
}

// serve is GET /me. In Lambda, API Gateway's JWT authorizer has verified the
// token and put its claims in the request context; locally, the binary
// verifies the Bearer token itself against the pool's JWKS.
func (h *meHandler) serve(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if c, ok := apiGatewayClaims(ctx); ok {
		logging.Add(ctx, slog.String("auth", "api_gateway"))
		writeJSON(w, http.StatusOK, meResponse{Sub: c.Sub, Email: c.Email})
		return nil
	}
	if h.tokens == nil {
		// In Lambda a request without claims did not pass the authorizer
		// (a route left unprotected): nothing here can vouch for it.
		return unauthorized(w, false, errors.New("no authorizer claims and no local verifier"))
	}
	raw, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return unauthorized(w, false, errors.New("no bearer token"))
	}
	c, err := h.tokens.Verify(ctx, raw)
	if errors.Is(err, ErrInvalidToken) {
		return unauthorized(w, true, err)
	}
	if err != nil {
		return &Error{Status: http.StatusServiceUnavailable, Code: "token_check_unavailable",
			Message: "the token could not be checked just now; try again", Cause: err}
	}
	logging.Add(ctx, slog.String("auth", "bearer"), slog.String("token_use", c.TokenUse))
	writeJSON(w, http.StatusOK, meResponse{Sub: c.Sub, Email: c.Email})
	return nil
}

// unauthorized is the 401 of RFC 6750: a challenge naming the scheme, and
// invalid_token when a token was given but refused.
func unauthorized(w http.ResponseWriter, tokenGiven bool, cause error) error {
	challenge := `Bearer`
	if tokenGiven {
		challenge = `Bearer error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	return &Error{Status: http.StatusUnauthorized, Code: "unauthorized",
		Message: "a valid Bearer ID or access token is required", Cause: cause}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > maxTokenLen {
		return "", false
	}
	return token, true
}

// apiGatewayClaims reads the claims API Gateway's HTTP API JWT authorizer
// verified (payload 2.0, requestContext.authorizer.jwt.claims), which
// aws-lambda-go-api-proxy puts in the request's context. A request that did
// not come through API Gateway has none, so a local caller cannot forge them.
func apiGatewayClaims(ctx context.Context) (Claims, bool) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(ctx)
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Claims{}, false
	}
	m := rc.Authorizer.JWT.Claims
	if m["sub"] == "" {
		return Claims{}, false
	}
	return Claims{Sub: m["sub"], Email: m["email"], TokenUse: m["token_use"]}, true
}
