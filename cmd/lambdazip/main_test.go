package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"magiclinks/mailer"
)

// elfHeader is the 64-byte header of a 64-bit little-endian ELF file: enough
// for debug/elf, which is all architecture reads.
func elfHeader(machine elf.Machine, osabi elf.OSABI, typ elf.Type) []byte {
	h := make([]byte, 64)
	copy(h, elf.ELFMAG)
	h[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	h[elf.EI_OSABI] = byte(osabi)
	le := binary.LittleEndian
	le.PutUint16(h[16:], uint16(typ))
	le.PutUint16(h[18:], uint16(machine))
	le.PutUint32(h[20:], uint32(elf.EV_CURRENT))
	le.PutUint16(h[52:], 64) // e_ehsize
	return h
}

func TestArchitecture(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		bin  []byte
		want string // "" for an error
	}{
		"arm64":          {bin: elfHeader(elf.EM_AARCH64, elf.ELFOSABI_NONE, elf.ET_EXEC), want: "arm64"},
		"x86_64":         {bin: elfHeader(elf.EM_X86_64, elf.ELFOSABI_LINUX, elf.ET_EXEC), want: "x86_64"},
		"pie":            {bin: elfHeader(elf.EM_AARCH64, elf.ELFOSABI_NONE, elf.ET_DYN), want: "arm64"},
		"386":            {bin: elfHeader(elf.EM_386, elf.ELFOSABI_NONE, elf.ET_EXEC)},
		"freebsd":        {bin: elfHeader(elf.EM_X86_64, elf.ELFOSABI_FREEBSD, elf.ET_EXEC)},
		"object file":    {bin: elfHeader(elf.EM_X86_64, elf.ELFOSABI_NONE, elf.ET_REL)},
		"not ELF at all": {bin: []byte("#!/bin/sh\necho hi\n")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := architecture(tc.bin)
			if tc.want == "" {
				if err == nil {
					t.Errorf("architecture() = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("architecture() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// The zip Lambda starts: one executable entry named bootstrap, and the same
// bytes for the same binary (so source_code_hash changes only with the code).
func TestPack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := append(elfHeader(elf.EM_AARCH64, elf.ELFOSABI_NONE, elf.ET_EXEC), bytes.Repeat([]byte("code"), 1000)...)
	binPath := filepath.Join(dir, "my-binary") // any name: the entry is always bootstrap
	if err := os.WriteFile(binPath, bin, 0o600); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "bootstrap.zip")

	var zips [][]byte
	for range 2 {
		arch, err := pack(binPath, zipPath, "")
		if err != nil || arch != "arm64" {
			t.Fatalf("pack() = %q, %v", arch, err)
		}
		b, err := os.ReadFile(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		zips = append(zips, b)
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Error("two packs of one binary differ")
	}

	zr, err := zip.NewReader(bytes.NewReader(zips[0]), int64(len(zips[0])))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" {
		t.Errorf("entry %q, want bootstrap", f.Name)
	}
	if m := f.Mode(); m != 0o755 {
		t.Errorf("mode %v, want -rwxr-xr-x", m)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, bin) {
		t.Error("entry does not hold the binary")
	}

	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, "bootstrap.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Architecture != "arm64" {
		t.Errorf("manifest %s: %v", b, err)
	}
}

func TestPackRefusesWhatLambdaCannotRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	binPath := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(binPath, elfHeader(elf.EM_386, elf.ELFOSABI_NONE, elf.ET_EXEC), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pack(binPath, filepath.Join(dir, "bootstrap.zip"), ""); err == nil {
		t.Fatal("pack accepted a 32-bit x86 binary")
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap.zip")); !os.IsNotExist(err) {
		t.Error("a refused binary still left a zip behind")
	}
}

// With -templates the overrides are checked, shipped under templates/ and
// listed with their SHA-256; the function then loads them from the zip as
// it would from /var/task/templates.
func TestPackTemplates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	binPath := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(binPath, elfHeader(elf.EM_AARCH64, elf.ELFOSABI_NONE, elf.ET_EXEC), 0o600); err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, "my-templates")
	subject := []byte("Anmeldung bei {{.AppName}}\n")
	for name, data := range map[string][]byte{"de/subject.txt": subject, "de/.DS_Store": []byte("junk"), ".git/HEAD": []byte("ref")} {
		p := filepath.Join(tmpl, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	zipPath := filepath.Join(dir, "bootstrap.zip")
	var zips [][]byte
	for range 2 {
		if _, err := pack(binPath, zipPath, tmpl); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		zips = append(zips, b)
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Error("two packs of the same files differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(zips[0]), int64(len(zips[0])))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name+" "+f.Mode().String())
	}
	if want := []string{"bootstrap -rwxr-xr-x", "templates/de/subject.txt -rw-r--r--"}; !slices.Equal(names, want) {
		t.Errorf("zip entries %q, want %q", names, want)
	}
	sub, err := fs.Sub(zr, "templates")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := mailer.LoadTemplates(sub)
	if err != nil || !slices.Equal(loaded.Overridden(), []string{"de/subject.txt"}) {
		t.Errorf("templates from the zip: %v, %v", loaded, err)
	}

	var m Manifest
	b, _ := os.ReadFile(filepath.Join(dir, "bootstrap.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(subject)
	if want := map[string]string{"de/subject.txt": hex.EncodeToString(sum[:])}; !maps.Equal(m.Templates, want) {
		t.Errorf("manifest templates %v, want %v", m.Templates, want)
	}
}

// A template the function would refuse at start fails the build instead,
// naming the file, and leaves no zip.
func TestPackRefusesBrokenTemplates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	binPath := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(binPath, elfHeader(elf.EM_X86_64, elf.ELFOSABI_NONE, elf.ET_EXEC), 0o600); err != nil {
		t.Fatal(err)
	}
	tmpl := filepath.Join(dir, "my-templates")
	if err := os.MkdirAll(filepath.Join(tmpl, "fr"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmpl, "fr", "mail.txt"), []byte("{{.Link}} {{.Name}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := pack(binPath, filepath.Join(dir, "bootstrap.zip"), tmpl)
	if err == nil || !strings.Contains(err.Error(), "fr/mail.txt: ") || !strings.Contains(err.Error(), ".Name") {
		t.Fatalf("pack: %v, want an error naming fr/mail.txt and .Name", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap.zip")); !os.IsNotExist(err) {
		t.Error("a refused template still left a zip behind")
	}
}
