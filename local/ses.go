package local

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// maxOutbox bounds the mails kept; the oldest go first.
const maxOutbox = 1000

// Mail is one sent mail as GET /local/outbox lists it.
type Mail struct {
	ID               string    `json:"id"`
	From             string    `json:"from"`
	To               []string  `json:"to"` // as given to SES, e.g. "a@example.com"
	Subject          string    `json:"subject"`
	Text             string    `json:"text"`
	HTML             string    `json:"html"`
	SentAt           time.Time `json:"sentAt"` // RFC 3339, UTC
	ConfigurationSet string    `json:"configurationSet,omitempty"`
	// Lang is the language the mail declares in its HTML (<html lang="de">),
	// as a reader's mail client sees it; "" when it declares none.
	Lang string `json:"lang,omitempty"`

	rcpts []string // the bare recipient addresses, lower-cased, for ?to=
}

// outbox is a bounded, concurrency-safe list of mails, oldest first.
type outbox struct {
	mu    sync.RWMutex
	mails []Mail
	max   int
}

func newOutbox(max int) *outbox { return &outbox{max: max} }

func (o *outbox) add(m Mail) {
	m.rcpts = make([]string, len(m.To))
	for i, r := range m.To {
		m.rcpts[i] = strings.ToLower(addressOf(r))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.mails) >= o.max {
		// Copy down rather than reslice, so the backing array does not grow.
		n := copy(o.mails, o.mails[len(o.mails)-o.max+1:])
		o.mails = o.mails[:n]
	}
	o.mails = append(o.mails, m)
}

// list returns the mails (oldest first) sent to address to (any recipient,
// case-insensitive, display names ignored), or all when to is "".
func (o *outbox) list(to string) []Mail {
	to = strings.ToLower(to)
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := []Mail{}
	for _, m := range o.mails {
		if to == "" || slices.Contains(m.rcpts, to) {
			out = append(out, m)
		}
	}
	return out
}

func (o *outbox) clear() {
	o.mu.Lock()
	o.mails = nil
	o.mu.Unlock()
}

func addressOf(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	return s
}

// sesError answers as SES v2 (REST JSON) does: the type in X-Amzn-ErrorType,
// the text in the body's "message" — what the SDK's deserializer reads.
func sesError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-ErrorType", typ)
	writeJSON(w, status, map[string]string{"message": msg})
}

// maxRecipients is SES's limit per message.
const maxRecipients = 50

// serveSendEmail is SES v2 SendEmail (POST /v2/email/outbound-emails) for
// simple content; the mail goes to the outbox instead of anyone's inbox.
func (s *Stack) serveSendEmail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		FromEmailAddress string
		Destination      *struct {
			ToAddresses, CcAddresses, BccAddresses []string
		}
		Content *struct {
			Simple *struct {
				Subject *struct{ Data string }
				Body    *struct {
					Text, Html *struct{ Data string }
				}
			}
			Raw      *json.RawMessage
			Template *json.RawMessage
		}
		ConfigurationSetName string
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20)) // SES's 10 MB message limit
	if err != nil {
		sesError(w, http.StatusBadRequest, "BadRequestException", "request body unreadable or too large")
		return
	}
	if err := json.Unmarshal(body, &in); err != nil {
		sesError(w, http.StatusBadRequest, "BadRequestException", "could not decode the request body")
		return
	}
	switch {
	case in.FromEmailAddress == "":
		sesError(w, http.StatusBadRequest, "BadRequestException", "FromEmailAddress is required")
		return
	case in.Destination == nil || len(in.Destination.ToAddresses)+len(in.Destination.CcAddresses)+len(in.Destination.BccAddresses) == 0:
		sesError(w, http.StatusBadRequest, "BadRequestException", "Destination must have at least one recipient")
		return
	case in.Content == nil:
		sesError(w, http.StatusBadRequest, "BadRequestException", "Content is required")
		return
	case in.Content.Simple == nil:
		sesError(w, http.StatusBadRequest, "BadRequestException", "only Content.Simple is supported by the local stand-in")
		return
	case in.Content.Simple.Subject == nil || in.Content.Simple.Body == nil:
		sesError(w, http.StatusBadRequest, "BadRequestException", "Content.Simple needs Subject and Body")
		return
	case in.Content.Simple.Body.Text == nil && in.Content.Simple.Body.Html == nil:
		sesError(w, http.StatusBadRequest, "BadRequestException", "Body needs Text or Html")
		return
	case len(in.Destination.ToAddresses)+len(in.Destination.CcAddresses)+len(in.Destination.BccAddresses) > maxRecipients:
		sesError(w, http.StatusBadRequest, "BadRequestException", "Recipient count exceeds "+strconv.Itoa(maxRecipients))
		return
	}
	for _, a := range append([]string{in.FromEmailAddress}, in.Destination.ToAddresses...) {
		if _, err := mail.ParseAddress(a); err != nil {
			sesError(w, http.StatusBadRequest, "BadRequestException", "Illegal address")
			return
		}
	}
	m := Mail{
		ID:               newMessageID(s.now()),
		From:             in.FromEmailAddress,
		To:               append([]string{}, in.Destination.ToAddresses...),
		Subject:          in.Content.Simple.Subject.Data,
		SentAt:           s.now().UTC(),
		ConfigurationSet: in.ConfigurationSetName,
	}
	if t := in.Content.Simple.Body.Text; t != nil {
		m.Text = t.Data
	}
	if h := in.Content.Simple.Body.Html; h != nil {
		m.HTML = h.Data
		m.Lang = htmlLang(m.HTML)
	}
	s.outbox.add(m)
	writeJSON(w, http.StatusOK, map[string]string{"MessageId": m.ID})
}

var htmlLangAttr = regexp.MustCompile(`(?is)<html\b[^>]*?\slang\s*=\s*["']?([A-Za-z0-9-]{1,35})`)

// htmlLang reads the lang attribute of a mail's <html> element: the
// language the mail says it is in, not one the stand-in was told.
func htmlLang(html string) string {
	if m := htmlLangAttr.FindStringSubmatch(html); m != nil {
		return m[1]
	}
	return ""
}

// newMessageID looks like an SES message ID: "0100", the send time in
// milliseconds as 12 hex digits, a UUID and "-000000".
func newMessageID(now time.Time) string {
	return fmt.Sprintf("0100%012x-%s-000000", now.UnixMilli(), uuid.NewString())
}

// serveOutbox lists the outbox as JSON, newest last; ?to=<address> keeps
// the mails to that address (the load run's way of finding its mail without
// reading the whole box).
func (s *Stack) serveOutbox(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.outbox.list(strings.TrimSpace(r.URL.Query().Get("to"))))
}

func (s *Stack) serveClearOutbox(w http.ResponseWriter, r *http.Request) {
	s.outbox.clear()
	w.WriteHeader(http.StatusNoContent)
}
