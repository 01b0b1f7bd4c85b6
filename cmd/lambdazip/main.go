// Command lambdazip packages a built Lambda bootstrap for Terraform: it writes
// the zip Lambda runs (one entry, named bootstrap, mode 0755, fixed time, so
// the same binary always gives the same bytes and hash) and, beside it, a small
// JSON manifest naming the binary's architecture as Lambda spells it. Terraform
// reads the manifest, so the function's architecture always matches the
// binary: LAMBDA_ARCH is the one setting.
//
//	go run ./cmd/lambdazip -o build/bootstrap.zip build/bootstrap
//
// writes build/bootstrap.zip and build/bootstrap.json ({"architecture":"arm64"}).
//
// With -templates dir it first checks the mail template overrides in dir as
// the function does at start (mailer.LoadTemplates: a broken one fails the
// build, naming the file), then ships them in the zip under templates/ and
// lists each with its SHA-256 in the manifest, which Terraform compares with
// its templates_dir so a deployment never runs templates other than the
// operator's.
package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"magiclinks/mailer"
)

func main() {
	out := flag.String("o", "build/bootstrap.zip", "zip to write; the manifest gets the same name ending in .json")
	templates := flag.String("templates", "", "directory of mail template overrides (TEMPLATES_DIR) to ship under "+templatesDir+"/")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: lambdazip -o build/bootstrap.zip [-templates dir] build/bootstrap")
		os.Exit(2)
	}
	arch, err := pack(flag.Arg(0), *out, *templates)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
	fmt.Printf("lambdazip: %s (%s)\n", *out, arch)
}

// Manifest is what Terraform reads beside the zip.
type Manifest struct {
	Architecture string `json:"architecture"`
	// Templates are the template overrides in the zip: their names under
	// templatesDir ("de/subject.txt") and the hex SHA-256 of each, as
	// Terraform's filesha256 gives it. Absent without overrides.
	Templates map[string]string `json:"templates,omitempty"`
}

// templatesDir is where the overrides go in the zip; Terraform sets
// TEMPLATES_DIR to it, which the function takes under its task root.
const templatesDir = "templates"

// file is one more zip entry beside bootstrap.
type file struct {
	name string
	data []byte
}

// lambdaArch maps an ELF machine to Lambda's name for it.
var lambdaArch = map[elf.Machine]string{
	elf.EM_AARCH64: "arm64",
	elf.EM_X86_64:  "x86_64",
}

// architecture reads the binary's ELF header: only a 64-bit Linux executable
// for one of Lambda's two instruction sets can run as provided.al2023.
func architecture(bin []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", fmt.Errorf("not an ELF binary (build it with GOOS=linux): %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return "", errors.New("not a 64-bit executable")
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return "", fmt.Errorf("built for %s, not Linux", f.OSABI)
	}
	arch, ok := lambdaArch[f.Machine]
	if !ok {
		return "", fmt.Errorf("machine %s: Lambda runs only arm64 and x86_64", f.Machine)
	}
	return arch, nil
}

// pack writes the zip and its manifest and returns the architecture;
// templates is a directory of template overrides, or "".
func pack(binPath, zipPath, templates string) (string, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return "", err
	}
	arch, err := architecture(bin)
	if err != nil {
		return "", fmt.Errorf("%s: %w", binPath, err)
	}
	manifest := Manifest{Architecture: arch}
	var extra []file
	if templates != "" {
		if extra, manifest.Templates, err = templateFiles(templates); err != nil {
			return "", err
		}
	}
	var buf bytes.Buffer
	if err := writeZip(&buf, bin, extra); err != nil {
		return "", err
	}
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	m, _ := json.Marshal(manifest)
	if err := os.WriteFile(manifestPath(zipPath), append(m, '\n'), 0o644); err != nil {
		return "", err
	}
	return arch, nil
}

func manifestPath(zipPath string) string {
	return strings.TrimSuffix(zipPath, ".zip") + ".json"
}

// templateFiles checks the overrides in dir as the function will at start
// and returns them as zip entries under templatesDir, in name order, with
// the manifest's hashes.
func templateFiles(dir string) ([]file, map[string]string, error) {
	t, err := mailer.LoadTemplates(os.DirFS(dir))
	if err != nil {
		return nil, nil, fmt.Errorf("templates %s: %w", dir, err)
	}
	names := t.Overridden()
	slices.Sort(names)
	files := make([]file, 0, len(names))
	hashes := make(map[string]string, len(names))
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, nil, err
		}
		sum := sha256.Sum256(b)
		hashes[name] = hex.EncodeToString(sum[:])
		files = append(files, file{name: path.Join(templatesDir, name), data: b})
	}
	return files, hashes, nil
}

// zipEpoch dates every entry, so the bytes depend on the contents alone.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// writeZip writes the entry bootstrap, executable, then the extra files,
// readable: the same contents always give the same bytes.
func writeZip(w io.Writer, bin []byte, extra []file) error {
	zw := zip.NewWriter(w)
	add := func(name string, mode fs.FileMode, data []byte) error {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch}
		h.SetMode(mode)
		f, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	if err := add("bootstrap", 0o755, bin); err != nil {
		return err
	}
	for _, f := range extra {
		if err := add(f.name, 0o644, f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
