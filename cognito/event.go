package cognito

import (
	"bytes"
	"encoding/json"
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

	var req map[string]json.RawMessage
	_ = json.Unmarshal(e.raw["request"], &req) // null or not an object: an empty request
	e.Request = request{
		UserAttributes:             strMap(req["userAttributes"]),
		ChallengeName:              str(req["challengeName"]),
		ChallengeAnswer:            str(req["challengeAnswer"]),
		PrivateChallengeParameters: strMap(req["privateChallengeParameters"]),
		UserNotFound:               isTrue(req["userNotFound"]),
	}
	var session []map[string]json.RawMessage
	_ = json.Unmarshal(req["session"], &session)
	for _, s := range session {
		e.Request.Session = append(e.Request.Session, sessionEntry{
			ChallengeName:   str(s["challengeName"]),
			ChallengeResult: isTrue(s["challengeResult"]),
		})
	}
	return e, nil
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

func isTrue(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("true"))
}

// strMap keeps the string values of a JSON object and drops the others.
func strMap(raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	return out
}
