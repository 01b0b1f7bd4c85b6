package cognito

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"magiclinks/internal/jsonscan"
)

// Trigger events are decoded leniently: real ones carry nulls, omit keys and,
// for challengeAnswer, may carry any JSON value. Every field is untrusted, so
// a field of the wrong type reads as its zero value rather than failing the
// sign-in with a decoding error nobody can act on.

// event is the part of every trigger event the handlers read. The event is
// returned unchanged but for its response (respond).
type event struct {
	payload []byte
	// responses are the spans of the top-level "response" values; close is
	// the offset of the object's closing brace, where a response is added
	// when the event has none; members counts the top-level members.
	responses [][2]int
	close     int
	members   int

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

// decodeEvent reads the event's members in one streaming pass
// (internal/jsonscan), and decodes the request, the one part read whole,
// with encoding/json's leniency.
func decodeEvent(payload []byte) (event, error) {
	e := event{payload: payload}
	var req requestJSON
	obj, err := jsonscan.Members(payload, func(name []byte, dec *jsontext.Decoder) (err error) {
		switch string(name) {
		case "triggerSource":
			e.TriggerSource, err = jsonscan.String(dec)
		case "userName":
			e.UserName, err = jsonscan.String(dec)
		case "request":
			var raw jsontext.Value
			if raw, err = dec.ReadValue(); err == nil {
				req = decodeRequest(raw)
			}
		case "response":
			var raw jsontext.Value
			if raw, err = dec.ReadValue(); err == nil {
				end := int(dec.InputOffset())
				e.responses = append(e.responses, [2]int{end - len(raw), end})
			}
		default:
			err = jsonscan.Skip(dec)
		}
		return err
	})
	if errors.Is(err, jsonscan.ErrNotObject) {
		return event{}, errNotObject
	}
	if err != nil {
		return event{}, fmt.Errorf("%w: %w", errNotObject, err)
	}
	e.close, e.members = obj.Close, obj.Members

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

// decodeRequest is one typed pass over the request. A field of the wrong
// type is an UnmarshalTypeError, after which encoding/json's Unmarshal goes
// on with the rest and leaves that field zero: exactly the leniency wanted (a
// map keeps its string values only, a bool is true only for a JSON true).
// The v1 API of the encoding/json v2 prototype does the same
// (FuzzDecodeRequest compares the two) with 13 allocations instead of 35.
func decodeRequest(raw []byte) requestJSON {
	var req requestJSON
	var typeErr *jsonv1.UnmarshalTypeError
	if err := jsonv1.Unmarshal(raw, &req); err != nil && !errors.As(err, &typeErr) {
		return requestJSON{} // null or not an object: an empty request
	}
	return req
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

// respond returns the whole event with its response replaced: the event's
// bytes as they came, with each top-level "response" value (there is one)
// swapped for the new one, or the response added when there is none.
func (e event) respond(response any) ([]byte, error) {
	b, err := json.Marshal(response)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(e.payload)+len(b)+16)
	at := 0
	for _, span := range e.responses {
		out = append(out, e.payload[at:span[0]]...)
		out = append(out, b...)
		at = span[1]
	}
	if len(e.responses) == 0 {
		out = append(out, e.payload[:e.close]...)
		if e.members > 0 {
			out = append(out, ',')
		}
		out = append(out, `"response":`...)
		out = append(out, b...)
		at = e.close
	}
	return append(out, e.payload[at:]...), nil
}
