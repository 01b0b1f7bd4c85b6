package cognito

import (
	"encoding/json"
	"errors"
)

// Trigger events are decoded leniently: real ones carry nulls, omit keys and,
// for challengeAnswer, may carry any JSON value. Every field is untrusted, so
// a field of the wrong type reads as its zero value rather than failing the
// sign-in with a decoding error nobody can act on.

// event is the part of every trigger event the handlers read. The rest of the
// event is kept as raw JSON and returned unchanged.
type event struct {
	raw           map[string]json.RawMessage
	TriggerSource string
	UserName      string
	Request       request
}

type request struct {
	UserAttributes             map[string]string
	Session                    []sessionEntry
	ChallengeName              string
	ChallengeAnswer            string // "" when absent or not a string
	PrivateChallengeParameters map[string]string
	UserNotFound               bool
}

type sessionEntry struct {
	ChallengeName   string
	ChallengeResult bool // true only for a JSON true
}

func decodeEvent(payload []byte) (event, error) {
	var e event
	if err := json.Unmarshal(payload, &e.raw); err != nil {
		return event{}, err
	}
	if e.raw == nil {
		return event{}, errNotObject
	}
	e.TriggerSource = str(e.raw["triggerSource"])
	e.UserName = str(e.raw["userName"])

	// One typed pass over the request. A field of the wrong type is an
	// UnmarshalTypeError, after which Unmarshal goes on with the rest and
	// leaves that field zero: exactly the leniency wanted (a map keeps its
	// string values only, a bool is true only for a JSON true).
	var req requestJSON
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(e.raw["request"], &req); err != nil && !errors.As(err, &typeErr) {
		req = requestJSON{} // absent, null or not an object: an empty request
	}
	e.Request = request{
		UserAttributes:             nonNil(req.UserAttributes),
		ChallengeName:              deref(req.ChallengeName),
		ChallengeAnswer:            deref(req.ChallengeAnswer),
		PrivateChallengeParameters: nonNil(req.PrivateChallengeParameters),
		UserNotFound:               req.UserNotFound != nil && *req.UserNotFound,
	}
	for _, s := range req.Session {
		e.Request.Session = append(e.Request.Session, sessionEntry{
			ChallengeName:   deref(s.ChallengeName),
			ChallengeResult: s.ChallengeResult != nil && *s.ChallengeResult,
		})
	}
	return e, nil
}

// requestJSON is the part of the request the triggers read, as it arrives.
type requestJSON struct {
	UserAttributes map[string]string `json:"userAttributes"`
	Session        []struct {
		ChallengeName   *string `json:"challengeName"`
		ChallengeResult *bool   `json:"challengeResult"`
	} `json:"session"`
	ChallengeName              *string           `json:"challengeName"`
	ChallengeAnswer            *string           `json:"challengeAnswer"`
	PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
	UserNotFound               *bool             `json:"userNotFound"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// respond returns the whole event with its response replaced.
func (e event) respond(response any) ([]byte, error) {
	b, err := json.Marshal(response)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(e.raw))
	for k, v := range e.raw {
		out[k] = v
	}
	out["response"] = b
	return json.Marshal(out)
}

func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
