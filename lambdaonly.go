//go:build lambdaonly

package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
)

// runLocal is not in the Lambda artifact: the stand-ins, the dev server and
// the local token verifier never run in Lambda, so make build leaves them
// out (-tags lambdaonly) and the artifact is smaller and starts faster.
func runLocal(context.Context, []string, func(string) string, io.Writer, *slog.Logger) error {
	return errors.New("this is the Lambda build (-tags lambdaonly): it runs only under AWS Lambda; make dev runs the local stack")
}
