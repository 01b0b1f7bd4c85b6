package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// triggerTimeout is how long Cognito waits for a trigger.
const triggerTimeout = 5 * time.Second

// triggerEvent is the part of a Cognito trigger event that varies; invoke
// adds the rest (version, region, userPoolId, callerContext).
type triggerEvent struct {
	UserName      string
	ClientID      string
	TriggerSource string
	Request       any
	Response      any
}

// wireEvent is the event as Cognito sends it (see /work/shared/events).
type wireEvent struct {
	Version       string        `json:"version"`
	Region        string        `json:"region"`
	UserPoolID    string        `json:"userPoolId"`
	UserName      string        `json:"userName"`
	CallerContext callerContext `json:"callerContext"`
	TriggerSource string        `json:"triggerSource"`
	Request       any           `json:"request"`
	Response      any           `json:"response"`
}

type callerContext struct {
	AWSSDKVersion string `json:"awsSdkVersion"`
	ClientID      string `json:"clientId"`
}

// sessionEntry is one element of request.session: a challenge answered.
type sessionEntry struct {
	ChallengeName     string  `json:"challengeName"`
	ChallengeResult   bool    `json:"challengeResult"`
	ChallengeMetadata *string `json:"challengeMetadata"` // null when Create set none
}

// The requests and responses, with the nulls real events carry. userNotFound
// is a pointer because Cognito sends it on some calls and omits it on others
// (compare cognito-define-first-call.json and -after-wrong-answer.json).
type (
	defineRequest struct {
		UserAttributes map[string]string `json:"userAttributes"`
		Session        []sessionEntry    `json:"session"`
		ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
		UserNotFound   *bool             `json:"userNotFound,omitempty"`
	}
	defineResponse struct {
		ChallengeName      *string `json:"challengeName"`
		IssueTokens        *bool   `json:"issueTokens"`
		FailAuthentication *bool   `json:"failAuthentication"`
	}
	createRequest struct {
		UserAttributes map[string]string `json:"userAttributes"`
		ChallengeName  string            `json:"challengeName"`
		Session        []sessionEntry    `json:"session"`
		ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
		UserNotFound   *bool             `json:"userNotFound,omitempty"`
	}
	createResponse struct {
		PublicChallengeParameters  map[string]string `json:"publicChallengeParameters"`
		PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
		ChallengeMetadata          *string           `json:"challengeMetadata"`
	}
	verifyRequest struct {
		UserAttributes             map[string]string `json:"userAttributes"`
		PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
		ChallengeAnswer            string            `json:"challengeAnswer"`
		ClientMetadata             map[string]string `json:"clientMetadata,omitempty"`
		UserNotFound               *bool             `json:"userNotFound,omitempty"`
	}
	verifyResponse struct {
		AnswerCorrect *bool `json:"answerCorrect"`
	}
	postAuthRequest struct {
		UserAttributes map[string]string `json:"userAttributes"`
		NewDeviceUsed  bool              `json:"newDeviceUsed"`
		ClientMetadata map[string]string `json:"clientMetadata,omitempty"`
	}
	preSignUpRequest struct {
		UserAttributes map[string]string `json:"userAttributes"`
		ValidationData map[string]string `json:"validationData"`
		ClientMetadata map[string]string `json:"clientMetadata"`
	}
	preSignUpResponse struct {
		AutoConfirmUser bool `json:"autoConfirmUser"`
		AutoVerifyEmail bool `json:"autoVerifyEmail"`
		AutoVerifyPhone bool `json:"autoVerifyPhone"`
	}
)

var errInvalidLambdaResponse = &apiError{"InvalidLambdaResponseException", "Unrecognizable lambda output"}

// invoke calls a trigger through the dispatcher as Lambda would and returns
// its output; failures become the errors Cognito reports for them. name is
// the trigger's name in Cognito's messages (DefineAuthChallenge, …).
func (c *cognito) invoke(ctx context.Context, name string, ev triggerEvent) ([]byte, error) {
	payload, err := json.Marshal(wireEvent{
		Version:       "1",
		Region:        c.cfg.region,
		UserPoolID:    c.cfg.poolID,
		UserName:      ev.UserName,
		CallerContext: callerContext{AWSSDKVersion: "aws-sdk-unknown-unknown", ClientID: ev.ClientID},
		TriggerSource: ev.TriggerSource,
		Request:       ev.Request,
		Response:      ev.Response,
	})
	if err != nil {
		return nil, fmt.Errorf("encoding %s event: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, triggerTimeout)
	defer cancel()
	out, err := c.cfg.triggers.Invoke(ctx, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, errorf("UnexpectedLambdaException", "%s invocation failed due to timeout.", name)
	case err != nil:
		c.cfg.log.WarnContext(ctx, "local cognito: trigger failed", slog.String("trigger", ev.TriggerSource), slog.Any("error", err))
		return nil, errorf("UserLambdaValidationException", "%s failed with error %s.", name, err.Error())
	case !json.Valid(out):
		return nil, errInvalidLambdaResponse
	}
	return out, nil
}

// invokeInto calls a trigger and decodes its response member into resp.
func (c *cognito) invokeInto(ctx context.Context, name string, ev triggerEvent, resp any) error {
	out, err := c.invoke(ctx, name, ev)
	if err != nil {
		return err
	}
	wrapper := struct {
		Response any `json:"response"`
	}{Response: resp}
	if err := json.Unmarshal(out, &wrapper); err != nil {
		return errInvalidLambdaResponse
	}
	return nil
}
