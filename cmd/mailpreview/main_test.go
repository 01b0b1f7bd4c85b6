package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPreview(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "de"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "de", "subject.txt"), []byte("Anmeldung bei {{.AppName}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "preview")
	var stdout strings.Builder
	if err := run([]string{"-dir", dir, "-lang", "de", "-html", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	got := stdout.String()
	for _, want := range []string{"Language: de\n", "Subject: Anmeldung bei Example\n", "Guten Tag,", "ABC-123", "10 Minuten", "From " + dir + ": de/subject.txt"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "de.html"))
	if err != nil || !strings.Contains(string(b), `<html lang="de">`) {
		t.Errorf("de.html: %v\n%s", err, b)
	}

	stdout.Reset()
	if err := run(nil, &stdout); err != nil || strings.Count(stdout.String(), "Language: ") != 4 {
		t.Errorf("all languages: %v\n%s", err, stdout.String())
	}
}

func TestPreviewRefusesWhatTheStartRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "es"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "es", "mail.html"), []byte("{{.Link}} {{.Nombre}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run([]string{"-dir", dir}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "es/mail.html: ") || !strings.Contains(err.Error(), ".Nombre") {
		t.Errorf("error %v, want one naming es/mail.html and .Nombre", err)
	}
	if err := run([]string{"-lang", "it"}, &strings.Builder{}); err == nil {
		t.Error("accepted -lang it")
	}
}
