package mailer

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"

	"magiclinks/lang"
)

// builtin holds templates/<lang>/{subject.txt,mail.txt,mail.html} for every
// language of lang.Supported.
//
//go:embed templates
var builtin embed.FS

// The three files of one language. subject.txt and mail.txt are
// text/template, mail.html is html/template (every field escaped for its
// context).
const (
	subjectFile = "subject.txt"
	textFile    = "mail.txt"
	htmlFile    = "mail.html"
)

var fileNames = []string{subjectFile, textFile, htmlFile}

// Fields are what a template may use, and all it may use: a template that
// names anything else stops the start.
type Fields struct {
	// AppName is the display name of EMAIL_FROM ("Example" in
	// "Example <no-reply@example.com>"), or "your account" in the mail's
	// language when it has none.
	AppName string
	// Email is the address the mail goes to.
	Email string
	// Link is the magic link.
	Link string
	// Code is the code for the device that asked, shown XXX-XXX; "" when
	// the link store keeps no codes, so a template says it under
	// {{if .Code}}.
	Code string
	// Expiry is how long the link and code work, in words of the mail's
	// language ("10 minutes", "1 Stunde und 30 Minuten").
	Expiry string
}

var fieldNames = []string{"AppName", "Email", "Link", "Code", "Expiry"}

// Templates are the mail templates of every supported language, parsed and
// checked once.
type Templates struct {
	byLang     map[string]*templateSet
	overridden []string
}

type templateSet struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// FileError names the template file a problem is in.
type FileError struct {
	File     string // "de/subject.txt"
	Override bool   // from the overrides directory, not built in
	Err      error
}

func (e *FileError) Error() string {
	if e.Override {
		return e.File + ": " + e.Err.Error()
	}
	return "built-in " + e.File + ": " + e.Err.Error()
}

func (e *FileError) Unwrap() error { return e.Err }

// LoadTemplates parses the built-in templates, with each file that overrides
// has under the same name (<lang>/subject.txt, <lang>/mail.txt,
// <lang>/mail.html) taking the place of its built-in one. overrides may be
// nil: built-in only. Files and directories whose names start with a dot are
// ignored; any other name is an error, so a typo cannot go unnoticed.
//
// Every template is parsed, checked to name no field but those of Fields
// (in every branch, taken or not), and executed with sample data, with and
// without a code: a template that would fail on a real mail fails here, at
// start. The subject must render to one line, and both bodies must carry the
// link.
func LoadTemplates(overrides fs.FS) (*Templates, error) {
	type source struct {
		text     string
		override bool
	}
	sources := map[string]source{}
	langs := lang.Supported()
	for _, l := range langs {
		for _, n := range fileNames {
			b, err := builtin.ReadFile("templates/" + l + "/" + n)
			if err != nil {
				return nil, &FileError{File: l + "/" + n, Err: err}
			}
			sources[l+"/"+n] = source{text: string(b)}
		}
	}
	var overridden []string
	if overrides != nil {
		err := fs.WalkDir(overrides, ".", func(p string, d fs.DirEntry, err error) error {
			if p == "." {
				if err != nil {
					return fmt.Errorf("not a directory that can be read: %w", err)
				}
				return nil
			}
			if err != nil {
				return &FileError{File: p, Override: true, Err: err}
			}
			if strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			dir, name := path.Split(p)
			dir = strings.TrimSuffix(dir, "/")
			switch {
			case d.IsDir() && dir == "" && slices.Contains(langs, name):
				return nil
			case d.IsDir() && dir == "":
				return &FileError{File: p + "/", Override: true, Err: fmt.Errorf("not a language this build ships (%s)", strings.Join(langs, ", "))}
			case d.IsDir() || dir == "" || !slices.Contains(fileNames, name):
				return &FileError{File: p, Override: true, Err: fmt.Errorf("not a template name: overrides are <lang>/%s with <lang> one of %s", strings.Join(fileNames, ", <lang>/"), strings.Join(langs, ", "))}
			}
			b, err := fs.ReadFile(overrides, p)
			if err != nil {
				return &FileError{File: p, Override: true, Err: err}
			}
			sources[p] = source{text: string(b), override: true}
			overridden = append(overridden, p)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	t := &Templates{byLang: map[string]*templateSet{}, overridden: overridden}
	for _, l := range langs {
		set := &templateSet{}
		for _, n := range fileNames {
			name := l + "/" + n
			src := sources[name]
			if err := set.parse(n, name, src.text); err != nil {
				return nil, &FileError{File: name, Override: src.override, Err: err}
			}
		}
		for _, n := range fileNames {
			name := l + "/" + n
			if err := set.check(l, n); err != nil {
				return nil, &FileError{File: name, Override: sources[name].override, Err: err}
			}
		}
		t.byLang[l] = set
	}
	return t, nil
}

// Overridden lists the files that came from the overrides directory.
func (t *Templates) Overridden() []string { return slices.Clone(t.overridden) }

// parse parses one file: its syntax, then the fields it names. The template
// is named after the file, so execution errors name it too.
func (s *templateSet) parse(file, name, src string) error {
	// The field check walks the text/template tree; html/template shares
	// the syntax and is parsed again below for its escaping.
	tt, err := texttemplate.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return err
	}
	for _, sub := range tt.Templates() {
		if sub.Tree == nil {
			continue
		}
		if err := checkFields(sub.Tree, sub.Tree.Root); err != nil {
			return err
		}
	}
	switch file {
	case subjectFile:
		s.subject = tt
	case textFile:
		s.text = tt
	case htmlFile:
		h, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return err
		}
		s.html = h
	}
	return nil
}

var errUnknownField = errors.New("unknown field")

// checkFields finds every field a template names, in branches taken or
// not, and refuses any but Fields' own. Every field is a string, so a
// field of a field (.Link.Host) is unknown too.
func checkFields(tree *parse.Tree, n parse.Node) error {
	bad := func(n parse.Node, field string) error {
		loc, _ := tree.ErrorContext(n)
		return fmt.Errorf("template: %s: %w %s (the fields are .%s)", loc, errUnknownField, field, strings.Join(fieldNames, " ."))
	}
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkFields(tree, c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkFields(tree, n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Cmds {
			if err := checkFields(tree, c); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if err := checkFields(tree, a); err != nil {
				return err
			}
		}
	case *parse.FieldNode:
		if len(n.Ident) != 1 || !slices.Contains(fieldNames, n.Ident[0]) {
			return bad(n, n.String())
		}
	case *parse.VariableNode: // $.Link
		if len(n.Ident) > 1 && (n.Ident[0] != "$" || len(n.Ident) > 2 || !slices.Contains(fieldNames, n.Ident[1])) {
			return bad(n, n.String())
		}
	case *parse.ChainNode: // (.Link).Host
		return bad(n, n.String())
	case *parse.IfNode:
		return checkBranch(tree, &n.BranchNode)
	case *parse.RangeNode:
		return checkBranch(tree, &n.BranchNode)
	case *parse.WithNode:
		return checkBranch(tree, &n.BranchNode)
	case *parse.TemplateNode:
		return checkFields(tree, n.Pipe)
	}
	return nil
}

func checkBranch(tree *parse.Tree, b *parse.BranchNode) error {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if err := checkFields(tree, n); err != nil {
			return err
		}
	}
	return nil
}

// sampleLink is shaped like a real link; it has nothing html/template would
// rewrite, so the check can find it in the HTML.
const sampleLink = "https://app.example.com/sign-in#user%40example.com,SampleChallenge0123456789"

// check executes one file with sample data in language l, with a code and
// without: execution is where text/template finds a missing field of a
// struct, and html/template a context it cannot escape.
func (s *templateSet) check(l, file string) error {
	for _, code := range []string{"ABC-123", ""} {
		f := Fields{AppName: defaultAppName(l), Email: "user@example.com", Link: sampleLink, Code: code, Expiry: Expiry(l, 90*time.Minute)}
		out, err := s.execute(file, f)
		if err != nil {
			return err
		}
		switch file {
		case subjectFile:
			if _, err := subjectLine(out); err != nil {
				return err
			}
		case textFile, htmlFile:
			if !strings.Contains(out, sampleLink) {
				return errors.New("the mail does not carry the link: it needs {{.Link}}")
			}
		}
	}
	return nil
}

func (s *templateSet) execute(file string, f Fields) (string, error) {
	var b bytes.Buffer
	var err error
	switch file {
	case subjectFile:
		err = s.subject.Execute(&b, f)
	case textFile:
		err = s.text.Execute(&b, f)
	case htmlFile:
		err = s.html.Execute(&b, f)
	}
	return b.String(), err
}

// subjectLine trims the rendered subject (editors end files with a newline)
// and refuses what a mail header cannot carry: a line break would start a
// new header.
func subjectLine(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("the subject is empty")
	case strings.ContainsAny(s, "\r\n"):
		return "", errors.New("the subject must be one line: a line break would end the mail's Subject header")
	}
	return s, nil
}

// set returns the templates of language l, or of lang.Default for a
// language they do not have.
func (t *Templates) set(l string) (string, *templateSet) {
	if s, ok := t.byLang[l]; ok {
		return l, s
	}
	return lang.Default, t.byLang[lang.Default]
}
