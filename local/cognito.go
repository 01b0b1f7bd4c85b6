package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// cognitoConfig is what the Cognito stand-in is built from.
type cognitoConfig struct {
	region, poolID, clientID string
	issuer                   string
	triggers                 Invoker
	now                      func() time.Time
	sessionTTL               time.Duration
	log                      *slog.Logger
	rand                     io.Reader
}

// cognito is the user-pool stand-in: one pool, one app client with
// CUSTOM_AUTH and REFRESH_TOKEN_AUTH enabled and PreventUserExistenceErrors
// on, username_attributes = ["email"], one custom attribute
// custom:authChallenge that the app client can neither read nor write — the
// pool terraform/ creates.
type cognito struct {
	cfg      cognitoConfig
	users    *userStore
	sessions *sessionStore
	tokens   *tokenIssuer
	// unknownKey makes the made-up usernames of unknown users stable for the
	// process, so two sign-ins for the same unknown address look the same.
	unknownKey []byte
}

func newCognito(cfg cognitoConfig) (*cognito, error) {
	tok, err := newTokenIssuer(cfg.issuer, cfg.clientID, cfg.rand)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(cfg.rand, key); err != nil {
		return nil, fmt.Errorf("local: reading randomness: %w", err)
	}
	return &cognito{
		cfg:        cfg,
		users:      newUserStore(),
		sessions:   newSessionStore(maxSessions),
		tokens:     tok,
		unknownKey: key,
	}, nil
}

// apiError is a Cognito error as the JSON 1.1 protocol carries it: the SDK
// turns __type into the typed error (types.NotAuthorizedException, …).
type apiError struct {
	Type    string
	Message string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errorf(typ, format string, args ...any) *apiError {
	return &apiError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// The messages real Cognito gives, which clients and people recognise.
var (
	errIncorrect       = &apiError{"NotAuthorizedException", "Incorrect username or password."}
	errInvalidSession  = &apiError{"NotAuthorizedException", "Invalid session for the user."}
	errExpiredSession  = &apiError{"NotAuthorizedException", "Invalid session for the user, session is expired."}
	errUserDisabled    = &apiError{"NotAuthorizedException", "User is disabled."}
	errUserNotFound    = &apiError{"UserNotFoundException", "User does not exist."}
	errMissingAuthHdr  = &apiError{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	errSerialization   = &apiError{"SerializationException", "Start of structure or map found where not expected."}
	errInvalidAccess   = &apiError{"NotAuthorizedException", "Invalid Access Token"}
	errRevokedAccess   = &apiError{"NotAuthorizedException", "Access Token has been revoked"}
	errExpiredAccess   = &apiError{"NotAuthorizedException", "Access Token has expired"}
	errInvalidRefresh  = &apiError{"NotAuthorizedException", "Invalid Refresh Token"}
	errRevokedRefresh  = &apiError{"NotAuthorizedException", "Refresh Token has been revoked"}
	errTooManySessions = &apiError{"TooManyRequestsException", "Too many open authentication sessions; try again later."}
	errTempExpired     = &apiError{"NotAuthorizedException", "Temporary password has expired and must be reset by an administrator."}
)

// unknownOperation is Cognito's answer to an X-Amz-Target it does not serve,
// with a message naming the operation so that a client's error says which
// call the local stand-in lacks.
func unknownOperation(target string) *apiError {
	if target == "" {
		return &apiError{"UnknownOperationException", "Missing X-Amz-Target header: expected " + targetPrefix + "<Operation>."}
	}
	return errorf("UnknownOperationException", "Unknown operation %s: the local Cognito stand-in does not serve it.", target)
}

// errAdminFromBrowser refuses an admin call from a web page. A page holds no
// AWS credentials, so in AWS its admin call fails for want of a signature:
// the same type as a missing one (not NotAuthorizedException, which Cognito
// keeps for bad user credentials and tokens), with a message saying why.
var errAdminFromBrowser = &apiError{"MissingAuthenticationTokenException", "Missing Authentication Token: admin operations are not served to browsers (the request has an Origin header)"}

// operation is one API action: it decodes its own input from body.
type operation struct {
	// admin operations are IAM-authorised (SigV4) in AWS; the others are
	// public and authorised by ClientId or a token.
	admin bool
	run   func(c *cognito, ctx context.Context, body []byte) (any, error)
}

var operations = map[string]operation{
	"AdminGetUser":              {admin: true, run: (*cognito).adminGetUser},
	"AdminCreateUser":           {admin: true, run: (*cognito).adminCreateUser},
	"AdminSetUserPassword":      {admin: true, run: (*cognito).adminSetUserPassword},
	"AdminUpdateUserAttributes": {admin: true, run: (*cognito).adminUpdateUserAttributes},
	"AdminDeleteUserAttributes": {admin: true, run: (*cognito).adminDeleteUserAttributes},
	"AdminDisableUser":          {admin: true, run: (*cognito).adminDisableUser},
	"AdminEnableUser":           {admin: true, run: (*cognito).adminEnableUser},
	"AdminDeleteUser":           {admin: true, run: (*cognito).adminDeleteUser},
	"ListUsers":                 {admin: true, run: (*cognito).listUsers},
	"InitiateAuth":              {run: (*cognito).initiateAuth},
	"RespondToAuthChallenge":    {run: (*cognito).respondToAuthChallenge},
	"GetUser":                   {run: (*cognito).getUser},
	"GlobalSignOut":             {run: (*cognito).globalSignOut},
	"RevokeToken":               {run: (*cognito).revokeToken},
	"GetTokensFromRefreshToken": {run: (*cognito).getTokensFromRefreshToken},
}

const (
	targetPrefix = "AWSCognitoIdentityProviderService."
	maxAPIBody   = 256 << 10
)

// serveAPI speaks AWS JSON 1.1: POST with X-Amz-Target naming the operation,
// errors as HTTP 400 with {"__type", "message"}.
func (c *cognito) serveAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType, Date")
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)

	target := r.Header.Get("X-Amz-Target")
	name, isCognito := strings.CutPrefix(target, targetPrefix)
	op, ok := operations[name]
	if !ok || !isCognito {
		writeAPIError(w, unknownOperation(target))
		return
	}
	// Admin calls are SigV4-signed by the SDK. We accept any signature (there
	// are no real credentials locally) but insist on one, so a page that
	// calls an admin API from the browser fails here as it would in AWS.
	// Since any string passes for a signature, a page could forge one; what
	// it cannot do is leave out Origin, which browsers send on every
	// cross-origin request and every same-origin POST, and the SDK never
	// sends. Otherwise any site open while make dev runs could list the users
	// or set a challenge it knows and sign in as anyone.
	if op.admin {
		if _, fromBrowser := r.Header["Origin"]; fromBrowser {
			writeAPIError(w, errAdminFromBrowser)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			writeAPIError(w, errMissingAuthHdr)
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		writeAPIError(w, errorf("SerializationException", "request body unreadable or over %d bytes", maxAPIBody))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	out, err := op.run(c, r.Context(), body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			c.cfg.log.ErrorContext(r.Context(), "local cognito", slog.String("op", name), slog.String("request_id", reqID), slog.Any("error", err))
			ae = errorf("InternalErrorException", "internal error in the local Cognito stand-in")
		} else {
			c.cfg.log.DebugContext(r.Context(), "local cognito", slog.String("op", name), slog.String("error_type", ae.Type))
		}
		writeAPIError(w, ae)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeAPIError(w, errorf("InternalErrorException", "encoding response"))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	status := http.StatusBadRequest
	if e.Type == "InternalErrorException" {
		status = http.StatusInternalServerError
	}
	b, _ := json.Marshal(map[string]string{"__type": e.Type, "message": e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", e.Type+":")
	w.WriteHeader(status)
	w.Write(b)
}

// decode reads an operation's input; malformed JSON is what AWS calls a
// SerializationException.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errorf("SerializationException", "could not decode the request: %v", err)
	}
	return nil
}

// missing is Cognito's wording for an absent required member.
func missing(member string) *apiError {
	return errorf("InvalidParameterException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func (c *cognito) checkPool(id string) error {
	if id == "" {
		return missing("userPoolId")
	}
	if id != c.cfg.poolID {
		return errorf("ResourceNotFoundException", "User pool %s does not exist.", id)
	}
	return nil
}

func (c *cognito) checkClient(id string) error {
	if id == "" {
		return missing("clientId")
	}
	if id != c.cfg.clientID {
		return errorf("ResourceNotFoundException", "User pool client %s does not exist.", id)
	}
	return nil
}

func newRequestID() string { return uuid.NewString() }
