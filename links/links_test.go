package links_test

import (
	"testing"
	"time"

	"magiclinks/links"
	"magiclinks/links/linkstest"
)

func TestMemory(t *testing.T) {
	linkstest.Run(t, func(t *testing.T, now func() time.Time) links.Backend {
		return links.NewMemory(now)
	}, linkstest.Caps{Atomic: true, Receipts: true, Counters: true, CrossDevice: true})
}
