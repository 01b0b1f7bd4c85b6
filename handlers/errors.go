package handlers

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"magiclinks/logging"
)

// Error is what a client is told: an HTTP status, a stable snake_case code
// and a message. The cause is logged, never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Cause.Error()
	}
	return e.Code
}

func (e *Error) Unwrap() error { return e.Cause }

// handle adapts a handler that returns an error; this is the one place errors
// become responses.
func handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "something went wrong", Cause: err}
		}
		attrs := []slog.Attr{slog.String("error_code", e.Code)}
		if e.Cause != nil {
			attrs = append(attrs, slog.String("error", logging.Redact(e.Cause.Error())))
		}
		logging.Add(r.Context(), attrs...)
		writeJSON(w, e.Status, map[string]string{"error": e.Code, "message": e.Message})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
