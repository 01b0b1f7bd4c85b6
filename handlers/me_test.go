package handlers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// meFakeVerifier answers with fixed claims or a fixed error and records the
// token it was given.
type meFakeVerifier struct {
	claims Claims
	err    error
	got    string
}

func (f *meFakeVerifier) Verify(_ context.Context, raw string) (Claims, error) {
	f.got = raw
	return f.claims, f.err
}

func TestMeWithVerifier(t *testing.T) {
	t.Parallel()
	alice := Claims{Sub: "8d1e0f4a-1111-2222-3333-444455556666", Email: "alice@example.com", TokenUse: "id"}
	tests := map[string]struct {
		authorization string
		verifier      *meFakeVerifier // nil: Deps.Tokens is nil (Lambda mode)
		wantStatus    int
		wantBody      map[string]string
		wantChallenge string
		wantToken     string // what the verifier must have been given
	}{
		"valid ID token": {
			authorization: "Bearer tok.en.value", verifier: &meFakeVerifier{claims: alice},
			wantStatus: 200, wantBody: map[string]string{"sub": alice.Sub, "email": alice.Email}, wantToken: "tok.en.value",
		},
		"scheme is case-insensitive": {
			authorization: "bearer   tok.en.value ", verifier: &meFakeVerifier{claims: alice},
			wantStatus: 200, wantBody: map[string]string{"sub": alice.Sub, "email": alice.Email}, wantToken: "tok.en.value",
		},
		"access token has no email": {
			authorization: "Bearer a.b.c", verifier: &meFakeVerifier{claims: Claims{Sub: alice.Sub, TokenUse: "access"}},
			wantStatus: 200, wantBody: map[string]string{"sub": alice.Sub}, wantToken: "a.b.c",
		},
		"no header": {
			verifier:   &meFakeVerifier{claims: alice},
			wantStatus: 401, wantBody: map[string]string{"error": "unauthorized"}, wantChallenge: "Bearer",
		},
		"basic auth": {
			authorization: "Basic YWxpY2U6cHc=", verifier: &meFakeVerifier{claims: alice},
			wantStatus: 401, wantBody: map[string]string{"error": "unauthorized"}, wantChallenge: "Bearer",
		},
		"empty bearer": {
			authorization: "Bearer ", verifier: &meFakeVerifier{claims: alice},
			wantStatus: 401, wantBody: map[string]string{"error": "unauthorized"}, wantChallenge: "Bearer",
		},
		"oversized bearer": {
			authorization: "Bearer " + strings.Repeat("a", maxTokenLen+1), verifier: &meFakeVerifier{claims: alice},
			wantStatus: 401, wantBody: map[string]string{"error": "unauthorized"}, wantChallenge: "Bearer",
		},
		"refused token": {
			authorization: "Bearer bad", verifier: &meFakeVerifier{err: invalid("expired")},
			wantStatus: 401, wantBody: map[string]string{"error": "unauthorized"}, wantChallenge: `Bearer error="invalid_token"`, wantToken: "bad",
		},
		"keys unavailable": {
			authorization: "Bearer good", verifier: &meFakeVerifier{err: ErrJWKSUnavailable},
			wantStatus: 503, wantBody: map[string]string{"error": "token_check_unavailable"}, wantToken: "good",
		},
		"lambda without authorizer claims": {
			authorization: "Bearer tok.en.value",
			wantStatus:    401, wantBody: map[string]string{"error": "unauthorized"}, wantChallenge: "Bearer",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := pagesDeps()
			if tc.verifier != nil {
				d.Tokens = tc.verifier
			}
			var hdr http.Header
			if tc.authorization != "" {
				hdr = http.Header{"Authorization": {tc.authorization}}
			}
			rec := pagesGet(t, New(d), "/me", hdr)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.wantChallenge)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			for k, v := range tc.wantBody {
				if body[k] != v {
					t.Errorf("body[%s] = %q, want %q (body %v)", k, body[k], v, body)
				}
			}
			if tc.wantStatus == 200 && len(body) != len(tc.wantBody) {
				t.Errorf("body = %v, want exactly %v", body, tc.wantBody)
			}
			if tc.verifier != nil && tc.verifier.got != tc.wantToken {
				t.Errorf("verifier got %q, want %q", tc.verifier.got, tc.wantToken)
			}
		})
	}
}

// In Lambda, API Gateway's JWT authorizer has verified the token; /me reads
// the claims from the event through aws-lambda-go-api-proxy, as dispatch
// serves it.
func TestMeWithAPIGatewayClaims(t *testing.T) {
	t.Parallel()
	event := func(auth *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) events.APIGatewayV2HTTPRequest {
		return events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "GET /me", RawPath: "/me",
			Headers: map[string]string{"authorization": "Bearer whatever-the-authorizer-checked"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/me", Protocol: "HTTP/1.1", SourceIP: "203.0.113.9"},
				Authorizer: auth,
				Stage:      "$default",
			},
		}
	}
	tests := map[string]struct {
		auth       *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		verifier   TokenVerifier
		wantStatus int
		wantBody   map[string]string
	}{
		"authorizer claims": {
			auth: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "sub-1", "email": "bob@example.com", "token_use": "id", "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"},
			}},
			wantStatus: 200, wantBody: map[string]string{"sub": "sub-1", "email": "bob@example.com"},
		},
		"claims win over a verifier": {
			auth: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "sub-1", "token_use": "access"},
			}},
			verifier:   &meFakeVerifier{err: invalid("must not be asked")},
			wantStatus: 200, wantBody: map[string]string{"sub": "sub-1"},
		},
		"no authorizer": {
			wantStatus: 401, wantBody: map[string]string{"error": "unauthorized"},
		},
		"authorizer without a subject": {
			auth: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"email": "bob@example.com"},
			}},
			wantStatus: 401, wantBody: map[string]string{"error": "unauthorized"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := pagesDeps()
			d.Tokens = tc.verifier
			resp, err := httpadapter.NewV2(New(d)).ProxyWithContext(context.Background(), event(tc.auth))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			for k, v := range tc.wantBody {
				if body[k] != v {
					t.Errorf("body[%s] = %q, want %q", k, body[k], v)
				}
			}
			if tc.wantStatus == 200 && len(body) != len(tc.wantBody) {
				t.Errorf("body = %v, want exactly %v", body, tc.wantBody)
			}
		})
	}
}

// --- the JWT verifier, against real go-jose-signed tokens and a JWKS server.

const (
	jwtTestPool   = "eu-west-1_AbCdEf123"
	jwtTestClient = "3n4b5urk1ft4fl3mg5e4example"
	jwtTestKID    = "key-1"
)

var (
	jwtTestKeysOnce sync.Once
	jwtTestKey      *rsa.PrivateKey // published in the JWKS as jwtTestKID
	jwtTestOtherKey *rsa.PrivateKey // not published
)

func jwtTestKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	jwtTestKeysOnce.Do(func() {
		var err error
		if jwtTestKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if jwtTestOtherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return jwtTestKey, jwtTestOtherKey
}

// jwksServer publishes keys (kid → key) and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	fetches atomic.Int32
	down    atomic.Bool
}

func newJWKSServer(t testing.TB, keys map[string]*rsa.PrivateKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+jwtTestPool+"/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		s.fetches.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		s.mu.Lock()
		var set jose.JSONWebKeySet
		for kid, k := range s.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) issuer() string { return s.URL + "/" + jwtTestPool }

func (s *jwksServer) publish(kid string, k *rsa.PrivateKey) {
	s.mu.Lock()
	s.keys[kid] = k
	s.mu.Unlock()
}

// jwtTestClock is a settable clock for the verifier.
type jwtTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *jwtTestClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *jwtTestClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var jwtTestNow = time.Date(2030, 5, 17, 10, 0, 0, 0, time.UTC)

func newTestVerifier(t testing.TB, s *jwksServer) (*JWTVerifier, *jwtTestClock) {
	t.Helper()
	clock := &jwtTestClock{t: jwtTestNow}
	v, err := NewJWTVerifier(s.issuer(), jwtTestClient, s.Client(), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return v, clock
}

// idClaims and accessClaims are what Cognito puts in its tokens (DESIGN.md
// "Wire facts").
func idClaims(issuer string) map[string]any {
	return map[string]any{
		"sub": "8d1e0f4a-1111-2222-3333-444455556666", "email": "alice@example.com", "email_verified": true,
		"iss": issuer, "aud": jwtTestClient, "cognito:username": "8d1e0f4a-1111-2222-3333-444455556666",
		"token_use": "id", "auth_time": jwtTestNow.Unix(), "iat": jwtTestNow.Unix(), "exp": jwtTestNow.Add(time.Hour).Unix(),
		"jti": "j1", "origin_jti": "o1", "event_id": "e1",
	}
}

func accessClaims(issuer string) map[string]any {
	return map[string]any{
		"sub": "8d1e0f4a-1111-2222-3333-444455556666", "iss": issuer, "client_id": jwtTestClient,
		"token_use": "access", "scope": "aws.cognito.signin.user.admin", "username": "8d1e0f4a-1111-2222-3333-444455556666",
		"auth_time": jwtTestNow.Unix(), "iat": jwtTestNow.Unix(), "exp": jwtTestNow.Add(time.Hour).Unix(), "jti": "j2",
	}
}

func signRS256(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func with(m map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestJWTVerifier(t *testing.T) {
	t.Parallel()
	key, other := jwtTestKeys(t)
	s := newJWKSServer(t, map[string]*rsa.PrivateKey{jwtTestKID: key})
	iss := s.issuer()
	valid := signRS256(t, key, jwtTestKID, idClaims(iss))

	// HS256 with the public key as the HMAC secret: the classic confusion.
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: pubDER, KeyID: jwtTestKID}}, nil)
	hsToken, _ := jwt.Signed(hs).Claims(idClaims(iss)).Serialize()
	parts := strings.Split(valid, ".")

	tests := map[string]struct {
		raw     string
		want    Claims
		wantErr error
	}{
		"ID token": {
			raw:  valid,
			want: Claims{Sub: "8d1e0f4a-1111-2222-3333-444455556666", Email: "alice@example.com", TokenUse: "id"},
		},
		"access token": {
			raw:  signRS256(t, key, jwtTestKID, accessClaims(iss)),
			want: Claims{Sub: "8d1e0f4a-1111-2222-3333-444455556666", TokenUse: "access"},
		},
		"access token's email is not trusted": {
			raw:  signRS256(t, key, jwtTestKID, with(accessClaims(iss), map[string]any{"email": "mallory@example.com"})),
			want: Claims{Sub: "8d1e0f4a-1111-2222-3333-444455556666", TokenUse: "access"},
		},
		"expired a while ago": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"exp": jwtTestNow.Add(-time.Minute).Unix()})),
			wantErr: ErrInvalidToken,
		},
		"expired within the leeway": {
			raw:  signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"exp": jwtTestNow.Add(-10 * time.Second).Unix()})),
			want: Claims{Sub: "8d1e0f4a-1111-2222-3333-444455556666", Email: "alice@example.com", TokenUse: "id"},
		},
		"not yet valid": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"nbf": jwtTestNow.Add(5 * time.Minute).Unix()})),
			wantErr: ErrInvalidToken,
		},
		"issued in the future": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"iat": jwtTestNow.Add(5 * time.Minute).Unix()})),
			wantErr: ErrInvalidToken,
		},
		"no expiry": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"exp": nil})),
			wantErr: ErrInvalidToken,
		},
		"wrong issuer": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"})),
			wantErr: ErrInvalidToken,
		},
		"ID token for another client": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"aud": "another-client"})),
			wantErr: ErrInvalidToken,
		},
		"ID token for several audiences": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"aud": []string{jwtTestClient, "another-client"}})),
			wantErr: ErrInvalidToken,
		},
		"access token for another client": {
			raw:     signRS256(t, key, jwtTestKID, with(accessClaims(iss), map[string]any{"client_id": "another-client"})),
			wantErr: ErrInvalidToken,
		},
		"access token with the client only in aud": {
			raw:     signRS256(t, key, jwtTestKID, with(accessClaims(iss), map[string]any{"client_id": nil, "aud": jwtTestClient})),
			wantErr: ErrInvalidToken,
		},
		"refresh-like token_use": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"token_use": "refresh"})),
			wantErr: ErrInvalidToken,
		},
		"no token_use": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"token_use": nil})),
			wantErr: ErrInvalidToken,
		},
		"no subject": {
			raw:     signRS256(t, key, jwtTestKID, with(idClaims(iss), map[string]any{"sub": nil})),
			wantErr: ErrInvalidToken,
		},
		"signed by an unpublished key under a published kid": {
			raw:     signRS256(t, other, jwtTestKID, idClaims(iss)),
			wantErr: ErrInvalidToken,
		},
		"unknown kid": {
			raw:     signRS256(t, other, "key-2", idClaims(iss)),
			wantErr: ErrInvalidToken,
		},
		"no kid": {
			raw:     signRS256(t, key, "", idClaims(iss)),
			wantErr: ErrInvalidToken,
		},
		"tampered payload": {
			raw:     parts[0] + "." + b64(with(idClaims(iss), map[string]any{"email": "mallory@example.com"})) + "." + parts[2],
			wantErr: ErrInvalidToken,
		},
		"alg none": {
			raw:     b64(map[string]string{"alg": "none", "kid": jwtTestKID}) + "." + b64(idClaims(iss)) + ".",
			wantErr: ErrInvalidToken,
		},
		"alg none with the real signature": {
			raw:     b64(map[string]string{"alg": "none", "kid": jwtTestKID}) + "." + parts[1] + "." + parts[2],
			wantErr: ErrInvalidToken,
		},
		"HS256 keyed with the public key": {raw: hsToken, wantErr: ErrInvalidToken},
		"garbage":                         {raw: "not-a-token", wantErr: ErrInvalidToken},
		"empty":                           {raw: "", wantErr: ErrInvalidToken},
		"JWE-shaped":                      {raw: "a.b.c.d.e", wantErr: ErrInvalidToken},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, _ := newTestVerifier(t, s)
			got, err := v.Verify(context.Background(), tc.raw)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify err = %v, want %v (claims %+v)", err, tc.wantErr, got)
				}
				if got != (Claims{}) {
					t.Errorf("claims %+v returned with an error", got)
				}
				if tc.raw != "" && strings.Contains(err.Error(), tc.raw) {
					t.Error("the error contains the token")
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tc.want {
				t.Errorf("claims = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestJWTVerifierFetchesKeysSparingly(t *testing.T) {
	t.Parallel()
	key, other := jwtTestKeys(t)
	s := newJWKSServer(t, map[string]*rsa.PrivateKey{jwtTestKID: key})
	v, clock := newTestVerifier(t, s)
	ctx := context.Background()
	good := signRS256(t, key, jwtTestKID, idClaims(s.issuer()))
	// The clock moves below; keep tokens valid throughout.
	rotated := signRS256(t, other, "key-2", with(idClaims(s.issuer()), map[string]any{"exp": jwtTestNow.Add(2 * time.Hour).Unix()}))

	for range 3 {
		if _, err := v.Verify(ctx, good); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times for 3 tokens of one key, want 1", n)
	}

	// A new key appears in the JWKS: the first token with its kid, soon
	// after the last fetch, is refused without a fetch...
	s.publish("key-2", other)
	if _, err := v.Verify(ctx, rotated); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("unknown kid within the refetch interval: err = %v, want ErrInvalidToken", err)
	}
	if n := s.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want still 1", n)
	}
	// ...and accepted once the interval has passed, with one fetch.
	clock.Add(v.minRefetch)
	if _, err := v.Verify(ctx, rotated); err != nil {
		t.Fatalf("rotated key after the interval: %v", err)
	}
	if n := s.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
	// Forged kids cannot make it fetch more than once per interval.
	for i := range 5 {
		forged := signRS256(t, other, "forged-"+string(rune('a'+i)), idClaims(s.issuer()))
		if _, err := v.Verify(ctx, forged); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged kid: err = %v", err)
		}
	}
	if n := s.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times after forged kids, want 2", n)
	}
}

func TestJWTVerifierKeysUnavailable(t *testing.T) {
	t.Parallel()
	key, _ := jwtTestKeys(t)
	s := newJWKSServer(t, map[string]*rsa.PrivateKey{jwtTestKID: key})
	s.down.Store(true)
	v, clock := newTestVerifier(t, s)
	good := signRS256(t, key, jwtTestKID, with(idClaims(s.issuer()), map[string]any{"exp": jwtTestNow.Add(2 * time.Hour).Unix()}))

	for range 2 {
		_, err := v.Verify(context.Background(), good)
		if !errors.Is(err, ErrJWKSUnavailable) || errors.Is(err, ErrInvalidToken) {
			t.Fatalf("err = %v, want ErrJWKSUnavailable only: the token may be fine", err)
		}
	}
	if n := s.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times while down, want 1 per interval", n)
	}
	s.down.Store(false)
	clock.Add(v.minRefetch)
	if _, err := v.Verify(context.Background(), good); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestJWTVerifierRejectsWeakOrForeignKeys(t *testing.T) {
	t.Parallel()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	s := newJWKSServer(t, map[string]*rsa.PrivateKey{"weak": weak})
	v, _ := newTestVerifier(t, s)
	_, err = v.Verify(context.Background(), signRS256(t, weak, "weak", idClaims(s.issuer())))
	if !errors.Is(err, ErrJWKSUnavailable) {
		t.Fatalf("a JWKS with only a 1024-bit key: err = %v, want ErrJWKSUnavailable", err)
	}
}

func TestNewJWTVerifierValidates(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ issuer, client string }{
		"relative issuer": {"cognito/pool", "c"},
		"ftp issuer":      {"ftp://example.com/pool", "c"},
		"issuer query":    {"https://example.com/pool?x=1", "c"},
		"no client":       {"https://cognito-idp.eu-west-1.amazonaws.com/pool", ""},
	} {
		if _, err := NewJWTVerifier(tc.issuer, tc.client, nil, nil); err == nil {
			t.Errorf("%s: NewJWTVerifier(%q, %q) accepted", name, tc.issuer, tc.client)
		}
	}
}

// FuzzJWTVerify: whatever the input, Verify does not panic, and anything it
// accepts carries exactly the claims of one of the tokens the key signed.
func FuzzJWTVerify(f *testing.F) {
	key, _ := jwtTestKeys(f)
	s := newJWKSServer(f, map[string]*rsa.PrivateKey{jwtTestKID: key})
	v, _ := newTestVerifier(f, s)
	valid := signRS256(f, key, jwtTestKID, idClaims(s.issuer()))
	want, err := v.Verify(context.Background(), valid)
	if err != nil {
		f.Fatal(err)
	}
	access := signRS256(f, key, jwtTestKID, accessClaims(s.issuer()))
	wantAccess, err := v.Verify(context.Background(), access)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(access)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := v.Verify(context.Background(), raw)
		if err == nil && got != want && got != wantAccess {
			t.Fatalf("accepted %q with claims %+v", raw, got)
		}
	})
}

func BenchmarkJWTVerify(b *testing.B) {
	key, _ := jwtTestKeys(b)
	s := newJWKSServer(b, map[string]*rsa.PrivateKey{jwtTestKID: key})
	v, _ := newTestVerifier(b, s)
	raw := signRS256(b, key, jwtTestKID, idClaims(s.issuer()))
	ctx := context.Background()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}
