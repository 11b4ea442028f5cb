//go:build !linux

package pollsettest

import "testing"

func testEINTR(t *testing.T, m Mux) {
	t.Skip("signalling one thread needs tgkill (Linux)")
}
