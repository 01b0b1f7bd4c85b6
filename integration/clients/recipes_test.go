// Package clients holds the real Cognito clients that make integration
// drives through the magic-link flow (integration/clients_test.go). This test
// keeps the README's client recipes and that code from drifting apart; it
// needs neither Node nor the network, so it runs in make test.
package clients

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// recipes returns the regions between "// recipe: NAME" and "// recipe end"
// in a client file, with their common indentation removed.
func recipes(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var name string
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "// recipe: "):
			name, lines = strings.TrimPrefix(trimmed, "// recipe: "), nil
		case trimmed == "// recipe end":
			if name == "" {
				t.Fatalf("%s: recipe end without a start", file)
			}
			out[name] = dedent(lines)
			name = ""
		case name != "":
			lines = append(lines, line)
		}
	}
	if name != "" {
		t.Fatalf("%s: recipe %s has no end", file, name)
	}
	return out
}

func dedent(lines []string) string {
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if len(l) >= indent {
			lines[i] = l[max(indent, 0):]
		}
	}
	return strings.Join(lines, "\n")
}

// readmeBlock matches a fenced js block that the README marks as a recipe
// from a file: <!-- recipe: integration/clients/NAME.mjs --> on the line before.
var readmeBlock = regexp.MustCompile("(?s)<!-- recipe: (integration/clients/[a-z0-9-]+\\.mjs) -->\n```js\n(.*?)```")

func TestREADMERecipesAreTheTestedCode(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]string{} // file → README blocks marked as its recipes
	for _, m := range readmeBlock.FindAllStringSubmatch(string(readme), -1) {
		blocks[m[1]] = append(blocks[m[1]], m[2])
	}
	for _, client := range []string{"amplify.mjs", "identity-js.mjs", "fetch.mjs"} {
		file := "integration/clients/" + client
		regions := recipes(t, client)
		if len(regions) == 0 {
			t.Errorf("%s marks no recipe", file)
		}
		if len(blocks[file]) == 0 {
			t.Errorf("README.md shows no recipe from %s (mark the block with <!-- recipe: %s -->)", file, file)
			continue
		}
		readmeCode := strings.Join(blocks[file], "\n")
		// Every recipe in the file is in the README, verbatim ...
		for name, code := range regions {
			if !strings.Contains(readmeCode, code) {
				t.Errorf("README.md lacks recipe %s of %s as the tests run it:\n%s", name, file, code)
			}
		}
		// ... and every line the README shows from it is in the file.
		src, _ := os.ReadFile(client)
		for _, line := range strings.Split(readmeCode, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.Contains(string(src), l) {
				t.Errorf("README.md shows a line that %s does not have: %q", file, l)
			}
		}
	}
}
