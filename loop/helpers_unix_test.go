//go:build unix

package loop_test

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// resolver returns a function giving the address an OS listener is bound
// to.
func resolver(t testing.TB) func(lfd int) string {
	return func(lfd int) string {
		sa, err := unix.Getsockname(lfd)
		if err != nil {
			t.Fatalf("getsockname(%d) = %v", lfd, err)
		}
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)).String()
		case *unix.SockaddrInet6:
			return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port)).String()
		}
		t.Fatalf("getsockname(%d) = %T; want an IP socket", lfd, sa)
		return ""
	}
}
