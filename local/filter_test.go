package local

import (
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	cases := map[string]struct {
		want filter
		ok   bool
	}{
		`email = "a@b.c"`:                   {filter{attr: "email", value: "a@b.c"}, true},
		`email="a@b.c"`:                     {filter{attr: "email", value: "a@b.c"}, true},
		`  email ^= "a"  `:                  {filter{attr: "email", prefix: true, value: "a"}, true},
		`cognito:user_status = "CONFIRMED"`: {filter{attr: "cognito:user_status", value: "CONFIRMED"}, true},
		`email = "a\"b"`:                    {filter{attr: "email", value: `a"b`}, true},
		`email = ""`:                        {filter{attr: "email"}, true},
		`email = a`:                         {ok: false},
		`email "a"`:                         {ok: false},
		`custom:authChallenge = "x"`:        {ok: false},
		`= "x"`:                             {ok: false},
		`email = "a"b"`:                     {ok: false},
		`email = "a\"`:                      {ok: false},
	}
	for in, tc := range cases {
		got, err := parseFilter(in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseFilter(%q) = %+v, %v; want %+v ok=%v", in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseFilter: any input parses or fails cleanly, and what parses
// round-trips through the quoting it came from.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`email = "a@b.c"`, `sub ^= "1"`, `email = "a\"b"`, `x`, `email = "\\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := parseFilter(s)
		if err != nil {
			return
		}
		op := " = "
		if fl.prefix {
			op = " ^= "
		}
		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(fl.value) + `"`
		again, err := parseFilter(fl.attr + op + quoted)
		if err != nil || again != fl {
			t.Fatalf("%q parsed to %+v, which re-parses to %+v, %v", s, fl, again, err)
		}
	})
}
