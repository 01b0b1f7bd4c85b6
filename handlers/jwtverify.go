//go:build !lambdaonly

// The local token verifier: in Lambda, API Gateway's JWT authorizer checks
// the tokens, so the Lambda artifact (-tags lambdaonly) leaves it out.

package handlers

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// JWTVerifier checks Cognito ID and access tokens as API Gateway's JWT
// authorizer does, for when the binary serves GET /me itself (the local
// stack). The crypto is go-jose's; this type only decides what to accept:
// RS256 signatures by a key in the issuer's JWKS, the issuer, the time
// window, the token use and the app client.
type JWTVerifier struct {
	issuer   string
	clientID string
	jwksURL  string
	client   *http.Client
	now      func() time.Time
	// leeway tolerates clock skew on exp, nbf and iat.
	leeway time.Duration
	// minRefetch bounds JWKS fetches: a token with an unknown kid triggers
	// at most one fetch per interval, so forged kids cannot make us hammer
	// the JWKS endpoint.
	minRefetch time.Duration

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	lastFetch time.Time
}

var _ TokenVerifier = (*JWTVerifier)(nil)

// ErrJWKSUnavailable means the signing keys could not be fetched; the token
// may be fine.
var ErrJWKSUnavailable = errors.New("JWKS unavailable")

const (
	jwksTimeout  = 5 * time.Second
	maxJWKSBytes = 64 << 10
	minRSABits   = 2048
)

// NewJWTVerifier returns a verifier for tokens that issuer (e.g.
// https://cognito-idp.<region>.amazonaws.com/<pool ID>) issued to the app
// client clientID. The keys come from issuer + "/.well-known/jwks.json",
// fetched on first use with client (nil: a client with a 5 s timeout). now
// is the clock that judges exp, nbf and iat (nil: time.Now); locally it must
// be the clock the token issuer uses, or moving that clock breaks sign-in.
func NewJWTVerifier(issuer, clientID string, client *http.Client, now func() time.Time) (*JWTVerifier, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("token verifier: issuer must be an absolute http(s) URL, got %q", issuer)
	}
	if clientID == "" {
		return nil, errors.New("token verifier: the app client ID is required")
	}
	if client == nil {
		client = &http.Client{Timeout: jwksTimeout}
	}
	if now == nil {
		now = time.Now
	}
	return &JWTVerifier{
		issuer:     issuer,
		clientID:   clientID,
		jwksURL:    issuer + "/.well-known/jwks.json",
		client:     client,
		now:        now,
		leeway:     30 * time.Second,
		minRefetch: 30 * time.Second,
	}, nil
}

// cognitoClaims are the claims beyond the registered ones that we check or
// answer with.
type cognitoClaims struct {
	TokenUse string `json:"token_use"`
	ClientID string `json:"client_id"` // access tokens
	Email    string `json:"email"`     // ID tokens
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}

// Verify checks raw and returns its claims. Errors wrap ErrInvalidToken, or
// ErrJWKSUnavailable when the keys could not be fetched. They never contain
// the token.
func (v *JWTVerifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if raw == "" || len(raw) > maxTokenLen {
		return Claims{}, invalid("empty or oversized")
	}
	// Only RS256: "none", HS256 (signed with the public key as a secret) and
	// the rest are refused before any key is looked at.
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return Claims{}, invalid("unparseable or not RS256")
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return Claims{}, invalid("no key ID")
	}
	key, err := v.key(ctx, tok.Headers[0].KeyID)
	if err != nil {
		return Claims{}, err
	}
	var std jwt.Claims
	var c cognitoClaims
	if err := tok.Claims(key, &std, &c); err != nil {
		return Claims{}, invalid("bad signature or claims")
	}
	if std.Expiry == nil {
		return Claims{}, invalid("no expiry")
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, Time: v.now()}, v.leeway); err != nil {
		return Claims{}, invalid("%v", err) // go-jose's messages name the claim, not its value
	}
	if std.Subject == "" {
		return Claims{}, invalid("no subject")
	}
	switch c.TokenUse {
	case "id":
		if len(std.Audience) != 1 || std.Audience[0] != v.clientID {
			return Claims{}, invalid("ID token for another client")
		}
	case "access":
		if c.ClientID != v.clientID {
			return Claims{}, invalid("access token for another client")
		}
		c.Email = "" // not an access-token claim; do not trust one
	default:
		return Claims{}, invalid("token_use is neither id nor access")
	}
	return Claims{Sub: std.Subject, Email: c.Email, TokenUse: c.TokenUse}, nil
}

// key returns the public key kid names, fetching the JWKS on first use and
// again (at most once per minRefetch) when a kid is unknown — Cognito
// rotates keys rarely, and a new one appears in the JWKS before use.
func (v *JWTVerifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	now := v.now()
	if !v.lastFetch.IsZero() && now.Sub(v.lastFetch) < v.minRefetch {
		if v.keys == nil {
			return nil, fmt.Errorf("%w: last fetch failed", ErrJWKSUnavailable)
		}
		return nil, invalid("unknown key ID")
	}
	v.lastFetch = now
	keys, err := v.fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKSUnavailable, err)
	}
	v.keys = keys
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, invalid("unknown key ID")
}

func (v *JWTVerifier) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", v.jwksURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS over %d bytes", maxJWKSBytes)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decoding JWKS: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || k.KeyID == "" || !k.Valid() || pub.N.BitLen() < minRSABits {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != string(jose.RS256) {
			continue
		}
		keys[k.KeyID] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable RS256 signing key")
	}
	return keys, nil
}
