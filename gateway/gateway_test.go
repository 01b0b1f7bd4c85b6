package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, p []byte) ([]byte, error) { return f(ctx, p) }

func TestRequestBecomesV2EventAndResponseComesBack(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	h := New(invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
		if err := json.Unmarshal(p, &got); err != nil {
			t.Fatal(err)
		}
		return json.Marshal(events.APIGatewayV2HTTPResponse{
			StatusCode:        202,
			Headers:           map[string]string{"Content-Type": "application/json"},
			MultiValueHeaders: map[string][]string{"Vary": {"Origin"}},
			Cookies:           []string{"a=b"},
			Body:              `{"ok":true}`,
		})
	}))
	req := httptest.NewRequest(http.MethodPost, "/login?x=1", strings.NewReader(`{"email":"a@b.co"}`))
	req.Header.Set("Origin", "http://127.0.0.1:8080")
	req.Header.Set("Cookie", "c=d; e=f")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if got.Version != "2.0" || got.RequestContext.HTTP.Method != "POST" || got.RawPath != "/login" || got.RawQueryString != "x=1" {
		t.Errorf("event = %+v", got)
	}
	if got.Body != `{"email":"a@b.co"}` || got.IsBase64Encoded {
		t.Errorf("body = %q (base64 %v)", got.Body, got.IsBase64Encoded)
	}
	if got.Headers["origin"] != "http://127.0.0.1:8080" {
		t.Errorf("headers not lower-cased or lost: %v", got.Headers)
	}
	if strings.Join(got.Cookies, "|") != "c=d|e=f" {
		t.Errorf("cookies = %v", got.Cookies)
	}
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 202 || string(body) != `{"ok":true}` || res.Header.Get("Vary") != "Origin" || res.Header.Get("Set-Cookie") != "a=b" {
		t.Errorf("response = %d %q %v", res.StatusCode, body, res.Header)
	}
}

func TestBinaryBodyIsBase64(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	h := New(invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
		_ = json.Unmarshal(p, &got)
		return []byte(`{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`), nil
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("\xff\xfe")))
	if !got.IsBase64Encoded || got.Body != "//4=" {
		t.Errorf("binary body sent as %q (base64 %v)", got.Body, got.IsBase64Encoded)
	}
	if rec.Body.String() != "hi" {
		t.Errorf("base64 response not decoded: %q", rec.Body.String())
	}
}

func TestFailedInvocationIs500(t *testing.T) {
	h := New(invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
		return nil, errors.New("boom")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("got %d %q; want a bare 500 that hides the error", rec.Code, rec.Body.String())
	}
}
