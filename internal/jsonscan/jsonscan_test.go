package jsonscan_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"magiclinks/internal/jsonscan"
)

func TestMembers(t *testing.T) {
	tests := map[string]struct {
		in      string
		names   string // the names seen, in order
		members int
		close   int
		err     error // nil: no error; ErrNotObject; errAny: some other error
	}{
		"object":                           {in: `{"a":1,"b":{"c":[1,"}"]},"a":"x"}`, names: "a,b,a,", members: 3, close: 32},
		"space around":                     {in: " \n{ \"a\" : null }\n\t", names: "a,", members: 1, close: 15},
		"empty":                            {in: `{}`, members: 0, close: 1},
		"escaped name":                     {in: `{"\u0061":1}`, names: "a,", members: 1, close: 11},
		"array":                            {in: `[{"a":1}]`, err: jsonscan.ErrNotObject},
		"null":                             {in: `null`, err: jsonscan.ErrNotObject},
		"data after":                       {in: `{"a":1} {}`, err: jsonscan.ErrNotObject},
		"not closed":                       {in: `{"a":1`, err: errAny},
		"bad value":                        {in: `{"a":tru}`, err: errAny},
		"nothing":                          {in: ``, err: errAny},
		"invalid UTF-8 ok":                 {in: "{\"a\":\"\xff\"}", names: "a,", members: 1, close: 8},
		"lone surrogate in a name":         {in: `{"x\ud800":1,"b":2}`, names: "x\ufffd,b,", members: 2, close: 18},
		"invalid UTF-8 in an escaped name": {in: "{\"\\n\xff\":1}", names: "\n\ufffd,", members: 1, close: 8},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			names := ""
			obj, err := jsonscan.Members([]byte(tc.in), func(name []byte, dec *jsontext.Decoder) error {
				names += string(name) + ","
				return jsonscan.Skip(dec)
			})
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("error %v", err)
			case tc.err == errAny && (err == nil || errors.Is(err, jsonscan.ErrNotObject)):
				t.Fatalf("error %v, want a syntax error", err)
			case tc.err == jsonscan.ErrNotObject && !errors.Is(err, jsonscan.ErrNotObject):
				t.Fatalf("error %v, want ErrNotObject", err)
			}
			if tc.err != nil {
				return
			}
			if names != tc.names || obj.Members != tc.members || obj.Close != tc.close || tc.in[obj.Close] != '}' {
				t.Errorf("names %q, %+v; want %q, %d members, close at %d", names, obj, tc.names, tc.members, tc.close)
			}
		})
	}
}

var errAny = errors.New("any error but ErrNotObject")

// The pooled decoders never mix up payloads read at once.
func TestMembersConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			want := fmt.Sprint(i)
			payload := []byte(`{"pad":"` + fmt.Sprintf("%0*d", 100*i, 0) + `","v":"` + want + `"}`)
			for range 500 {
				var got string
				if _, err := jsonscan.Members(payload, func(name []byte, dec *jsontext.Decoder) (err error) {
					if string(name) == "v" {
						got, err = jsonscan.String(dec)
						return err
					}
					return jsonscan.Skip(dec)
				}); err != nil || got != want {
					t.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// String reads strings only; anything else is "" and skipped.
func TestString(t *testing.T) {
	got := map[string]string{}
	_, err := jsonscan.Members([]byte(`{"s":"x","n":7,"o":{"s":"y"},"z":null,"t":true}`), func(name []byte, dec *jsontext.Decoder) (err error) {
		got[string(name)], err = jsonscan.String(dec)
		return err
	})
	if err != nil || got["s"] != "x" || got["n"] != "" || got["o"] != "" || got["z"] != "" || got["t"] != "" || len(got) != 5 {
		t.Fatalf("%v, %v", got, err)
	}
}
