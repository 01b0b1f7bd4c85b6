package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
)

// runLocal serves the product on 127.0.0.1 with local stand-ins (make dev).
func runLocal(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, logger *slog.Logger) error {
	return errors.New("the local stack is not built yet")
}
