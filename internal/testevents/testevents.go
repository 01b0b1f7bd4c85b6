// Package testevents loads the recorded-shape events of testdata/events for
// the tests and fuzz targets of every package, wherever they run from.
package testevents

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the folder of the recorded events.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "events")
}

// Load returns the contents of the events whose names match pattern (e.g.
// "*.json", "apigw-*.json"); it fails tb if there are none.
func Load(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(), pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no recorded events match %s in %s: %v", pattern, Dir(), err)
	}
	out := make([][]byte, 0, len(files))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}
