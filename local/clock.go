package local

import (
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Clock is the local stack's clock: the real time plus an offset that only
// ever grows. Tests move it forward through POST /local/clock to see links and
// sessions expire without waiting. main builds one only outside Lambda and
// gives its Now to the handlers, the triggers and the stand-ins alike.
type Clock struct {
	base   func() time.Time
	offset atomic.Int64 // nanoseconds
}

// NewClock returns a clock that follows base (time.Now when nil).
func NewClock(base func() time.Time) *Clock {
	if base == nil {
		base = time.Now
	}
	return &Clock{base: base}
}

// Now is the base time plus the offset.
func (c *Clock) Now() time.Time { return c.base().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d; a negative d is ignored, because
// nothing here is ready for time going backwards.
func (c *Clock) Advance(d time.Duration) {
	if d > 0 {
		c.offset.Add(int64(d))
	}
}

// Offset is how far the clock is ahead of its base.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// maxAdvance bounds one step: far beyond any TTL here, small enough that a
// typo cannot push the clock past what time.Time handles.
const maxAdvance = 365 * 24 * time.Hour

// serveClock answers GET /local/clock with the clock's state and, for POST
// with {"advance": "16m"}, moves it forward first.
func (s *Stack) serveClock(w http.ResponseWriter, r *http.Request) {
	c := s.opts.Clock
	if r.Method == http.MethodPost {
		var req struct {
			Advance string `json:"advance"`
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<10))
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		d, perr := time.ParseDuration(req.Advance)
		if err != nil || perr != nil || d <= 0 || d > maxAdvance {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": `body must be {"advance": "<positive Go duration up to 8760h>"}`})
			return
		}
		c.Advance(d)
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"now":    c.Now().UTC().Format(time.RFC3339Nano),
		"offset": c.Offset().String(),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
