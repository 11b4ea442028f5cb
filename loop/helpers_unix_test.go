//go:build unix

package loop_test

import (
	"context"
	"testing"

	"github.com/muxkit/muxkit/loop"
)

// resolver returns a function giving the address an OS listener is bound
// to.
func resolver(t *testing.T) func(lfd int) string {
	return func(lfd int) string {
		a, err := loop.LocalAddr(lfd)
		if err != nil {
			t.Fatalf("LocalAddr(%d) = %v", lfd, err)
		}
		return a
	}
}

// canceled returns a context that is already done.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
