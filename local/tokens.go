package local

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	tokenValidity   = time.Hour           // ID and access tokens, ExpiresIn 3600
	refreshValidity = 30 * 24 * time.Hour // Cognito's default
	// maxRefresh bounds the refresh tokens (and revocations) kept in memory;
	// the oldest go first.
	maxRefresh = 50000
)

// refreshHeader is the protected header of Cognito's refresh tokens, which
// are JWE ({"cty":"JWT","enc":"A256GCM","alg":"RSA-OAEP"}): a refresh token
// starts "eyJ" like the others, never with "-", which the AWS CLI would read
// as an option (aws cognito-idp revoke-token --token …).
const refreshHeader = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ"

// tokenSet is AuthenticationResult.
type tokenSet struct {
	AccessToken  string `json:"AccessToken"`
	ExpiresIn    int    `json:"ExpiresIn"`
	IdToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	TokenType    string `json:"TokenType"`
}

// refreshEntry is what an opaque refresh token stands for.
type refreshEntry struct {
	sub, clientID, originJTI string
	authTime, expires        time.Time
}

// issued is one sign-in: its refresh token and origin_jti.
type issued struct{ refresh, origin string }

// tokenIssuer signs RS256 tokens with a key made at start and publishes the
// public half as JWKS, like a user pool.
type tokenIssuer struct {
	issuer, clientID, kid string
	key                   *rsa.PrivateKey
	signer                jose.Signer
	jwks                  []byte

	mu      sync.Mutex
	refresh map[string]refreshEntry
	order   []issued        // sign-ins, oldest first, for eviction
	revoked map[string]bool // origin_jti of signed-out or revoked sign-ins
}

func newTokenIssuer(issuer, clientID string, r io.Reader) (*tokenIssuer, error) {
	key, err := rsa.GenerateKey(r, 2048)
	if err != nil {
		return nil, fmt.Errorf("local: generating the token key: %w", err)
	}
	kidBytes := make([]byte, 24)
	if _, err := io.ReadFull(r, kidBytes); err != nil {
		return nil, fmt.Errorf("local: reading randomness: %w", err)
	}
	kid := base64.StdEncoding.EncodeToString(kidBytes)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		return nil, fmt.Errorf("local: token signer: %w", err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}}})
	if err != nil {
		return nil, fmt.Errorf("local: encoding JWKS: %w", err)
	}
	return &tokenIssuer{
		issuer: issuer, clientID: clientID, kid: kid, key: key, signer: signer, jwks: jwks,
		refresh: map[string]refreshEntry{}, revoked: map[string]bool{},
	}, nil
}

func (t *tokenIssuer) sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := t.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return obj.CompactSerialize()
}

// issue mints ID, access and refresh tokens for a sign-in that just ended.
func (t *tokenIssuer) issue(u *user, clientID string, now time.Time) (*tokenSet, error) {
	origin := newUUID()
	ts, err := t.mint(u, clientID, origin, now, now)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 64)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	ts.RefreshToken = refreshHeader + "." + base64.RawURLEncoding.EncodeToString(b) + "."
	// The rest of the shape of Cognito's (an encrypted JWT, five parts): an
	// IV, ciphertext and tag, here random too.
	for _, n := range []int{12, 32, 16} {
		part := make([]byte, n)
		rand.Read(part)
		ts.RefreshToken += base64.RawURLEncoding.EncodeToString(part)
		if n != 16 {
			ts.RefreshToken += "."
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.order) >= maxRefresh {
		old := t.order[0]
		t.order = t.order[1:]
		delete(t.refresh, old.refresh)
		delete(t.revoked, old.origin)
	}
	t.refresh[ts.RefreshToken] = refreshEntry{sub: u.sub, clientID: clientID, originJTI: origin, authTime: now, expires: now.Add(refreshValidity)}
	t.order = append(t.order, issued{refresh: ts.RefreshToken, origin: origin})
	return ts, nil
}

// mint signs the ID and access tokens of one sign-in (origin).
func (t *tokenIssuer) mint(u *user, clientID, origin string, authTime, now time.Time) (*tokenSet, error) {
	eventID := newUUID()
	common := func(use string) map[string]any {
		return map[string]any{
			"sub": u.sub, "iss": t.issuer, "token_use": use, "origin_jti": origin, "event_id": eventID,
			"auth_time": authTime.Unix(), "iat": now.Unix(), "exp": now.Add(tokenValidity).Unix(), "jti": newUUID(),
		}
	}
	id := common("id")
	id["aud"] = clientID
	id["cognito:username"] = u.sub
	id["email"] = u.attrs[attrEmail]
	id["email_verified"] = u.attrs[attrEmailVerified] == "true"
	access := common("access")
	access["client_id"] = clientID
	access["scope"] = "aws.cognito.signin.user.admin"
	access["username"] = u.sub
	idTok, err := t.sign(id)
	if err != nil {
		return nil, err
	}
	accessTok, err := t.sign(access)
	if err != nil {
		return nil, err
	}
	return &tokenSet{AccessToken: accessTok, IdToken: idTok, ExpiresIn: int(tokenValidity / time.Second), TokenType: "Bearer"}, nil
}

// accessClaims are the access-token claims GetUser and sign-out rely on.
type accessClaims struct {
	Sub       string `json:"sub"`
	Issuer    string `json:"iss"`
	TokenUse  string `json:"token_use"`
	ClientID  string `json:"client_id"`
	OriginJTI string `json:"origin_jti"`
	Exp       int64  `json:"exp"`
}

// verifyAccess checks an access token as Cognito's GetUser does.
func (t *tokenIssuer) verifyAccess(token string, now time.Time) (accessClaims, error) {
	var c accessClaims
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return c, errInvalidAccess
	}
	payload, err := obj.Verify(&t.key.PublicKey)
	if err != nil {
		return c, errInvalidAccess
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.TokenUse != "access" || c.Issuer != t.issuer || c.Sub == "" {
		return c, errInvalidAccess
	}
	if now.Unix() >= c.Exp {
		return c, errExpiredAccess
	}
	t.mu.Lock()
	revoked := t.revoked[c.OriginJTI]
	t.mu.Unlock()
	if revoked {
		return c, errRevokedAccess
	}
	return c, nil
}

// revokeUser ends every sign-in of sub (GlobalSignOut).
func (t *tokenIssuer) revokeUser(sub string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.refresh {
		if e.sub == sub {
			t.revoked[e.originJTI] = true
		}
	}
}

// revokeRefresh ends the sign-in a refresh token belongs to (RevokeToken).
func (t *tokenIssuer) revokeRefresh(token, clientID string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.refresh[token]
	if !ok {
		return nil // RFC 7009: revoking an unknown token is not an error
	}
	if e.clientID != clientID {
		return errorf("UnauthorizedException", "Token was not issued to this client.")
	}
	t.revoked[e.originJTI] = true // kept until evicted, to say "revoked"
	return nil
}

func (t *tokenIssuer) lookupRefresh(token string, now time.Time) (refreshEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.refresh[token]
	switch {
	case !ok:
		return e, errInvalidRefresh
	case t.revoked[e.originJTI]:
		return e, errRevokedRefresh
	case !now.Before(e.expires):
		return e, errorf("NotAuthorizedException", "Refresh Token has expired")
	}
	return e, nil
}

// refresh is InitiateAuth REFRESH_TOKEN_AUTH.
func (c *cognito) refresh(token string) (any, error) {
	if token == "" {
		return nil, errorf("InvalidParameterException", "Missing required parameter REFRESH_TOKEN")
	}
	ts, err := c.refreshTokens(token)
	if err != nil {
		return nil, err
	}
	return authResult{ChallengeParameters: map[string]string{}, AuthenticationResult: ts}, nil
}

// getTokensFromRefreshToken is the refresh Amplify JS v6 (6.21 and later)
// uses instead of InitiateAuth REFRESH_TOKEN_AUTH; Cognito serves both with
// the same checks. It answers only AuthenticationResult.
func (c *cognito) getTokensFromRefreshToken(_ context.Context, body []byte) (any, error) {
	var in struct {
		RefreshToken   string
		ClientID       string `json:"ClientId"`
		ClientSecret   string
		DeviceKey      string
		ClientMetadata map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.RefreshToken == "" {
		return nil, missing("refreshToken")
	}
	if err := c.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	ts, err := c.refreshTokens(in.RefreshToken)
	if err != nil {
		return nil, err
	}
	return struct {
		AuthenticationResult *tokenSet `json:"AuthenticationResult"`
	}{ts}, nil
}

// refreshTokens mints new ID and access tokens for a live refresh token, and
// no new refresh token (rotation is off, as in the pool terraform/ creates).
// The pool has one app client, which the caller has checked.
func (c *cognito) refreshTokens(token string) (*tokenSet, error) {
	now := c.cfg.now()
	e, err := c.tokens.lookupRefresh(token, now)
	if err != nil {
		return nil, err
	}
	u, ok := c.users.get(e.sub)
	if !ok {
		return nil, errUserNotFound
	}
	if !u.enabled {
		return nil, errUserDisabled
	}
	return c.tokens.mint(u, e.clientID, e.originJTI, e.authTime, now)
}

// accessClaims reads {"AccessToken"} from a request body and verifies it, as
// GetUser and GlobalSignOut both take it.
func (c *cognito) accessClaims(body []byte) (accessClaims, error) {
	var in struct{ AccessToken string }
	if err := decode(body, &in); err != nil {
		return accessClaims{}, err
	}
	if in.AccessToken == "" {
		return accessClaims{}, missing("accessToken")
	}
	return c.tokens.verifyAccess(in.AccessToken, c.cfg.now())
}

func (c *cognito) getUser(_ context.Context, body []byte) (any, error) {
	claims, err := c.accessClaims(body)
	if err != nil {
		return nil, err
	}
	u, ok := c.users.get(claims.Sub)
	if !ok {
		return nil, errUserNotFound
	}
	if !u.enabled {
		return nil, errUserDisabled
	}
	return struct {
		Username       string      `json:"Username"`
		UserAttributes []attribute `json:"UserAttributes"`
	}{u.sub, u.attributeList(func(n string) bool { return !clientHidden[n] })}, nil
}

func (c *cognito) globalSignOut(_ context.Context, body []byte) (any, error) {
	claims, err := c.accessClaims(body)
	if err != nil {
		return nil, err
	}
	c.tokens.mu.Lock()
	c.tokens.revoked[claims.OriginJTI] = true
	c.tokens.mu.Unlock()
	c.tokens.revokeUser(claims.Sub)
	return struct{}{}, nil
}

func (c *cognito) revokeToken(_ context.Context, body []byte) (any, error) {
	var in struct {
		Token    string
		ClientID string `json:"ClientId"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, missing("token")
	}
	if err := c.checkClient(in.ClientID); err != nil {
		return nil, err
	}
	if strings.Count(in.Token, ".") == 2 { // a JWT: an ID or access token
		return nil, errorf("UnsupportedTokenTypeException", "Unsupported token type; only refresh tokens can be revoked.")
	}
	if err := c.tokens.revokeRefresh(in.Token, in.ClientID); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// serveJWKS publishes the signing key at <issuer>/.well-known/jwks.json.
func (c *cognito) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("pool") != c.cfg.poolID {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	w.Write(c.tokens.jwks)
}

// serveOpenIDConfig is the discovery document OIDC libraries look for.
func (c *cognito) serveOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("pool") != c.cfg.poolID {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                c.cfg.issuer,
		"jwks_uri":                              c.cfg.issuer + "/.well-known/jwks.json",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"subject_types_supported":               []string{"public"},
		"response_types_supported":              []string{"code", "token"},
	})
}
