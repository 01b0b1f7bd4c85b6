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
package main

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "build/bootstrap.zip", "zip to write; the manifest gets the same name ending in .json")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: lambdazip -o build/bootstrap.zip build/bootstrap")
		os.Exit(2)
	}
	arch, err := pack(flag.Arg(0), *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
	fmt.Printf("lambdazip: %s (%s)\n", *out, arch)
}

// Manifest is what Terraform reads beside the zip.
type Manifest struct {
	Architecture string `json:"architecture"`
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

// pack writes the zip and its manifest and returns the architecture.
func pack(binPath, zipPath string) (string, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return "", err
	}
	arch, err := architecture(bin)
	if err != nil {
		return "", fmt.Errorf("%s: %w", binPath, err)
	}
	var buf bytes.Buffer
	if err := writeZip(&buf, bin); err != nil {
		return "", err
	}
	if err := os.WriteFile(zipPath, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	m, _ := json.Marshal(Manifest{Architecture: arch})
	if err := os.WriteFile(manifestPath(zipPath), append(m, '\n'), 0o644); err != nil {
		return "", err
	}
	return arch, nil
}

func manifestPath(zipPath string) string {
	return strings.TrimSuffix(zipPath, ".zip") + ".json"
}

// writeZip writes one entry named bootstrap, executable, dated at the zip
// format's epoch: the bytes depend on the binary alone.
func writeZip(w io.Writer, bin []byte) error {
	zw := zip.NewWriter(w)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	f, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := f.Write(bin); err != nil {
		return err
	}
	return zw.Close()
}
