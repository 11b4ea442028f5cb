package selectmux

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/pollset/pollsettest"
	"github.com/muxkit/muxkit/mux"
)

// BenchmarkWait compares Wait(events, 0) with one ready descriptor among
// N against a raw loop making the same system call (pselect on Linux) on
// the same descriptors: it rebuilds the fd set from the list before each
// call, as select requires, and scans the result.
func BenchmarkWait(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			fds := pollsettest.BenchFDs(b, n)
			nfd := 0
			for _, fd := range fds {
				if fd >= unix.FD_SETSIZE-1 { // leave a number for the wake fd
					b.Skipf("fd %d does not fit under FD_SETSIZE", fd)
				}
				nfd = max(nfd, fd+1)
			}
			b.Run("raw", func(b *testing.B) {
				var r unix.FdSet
				b.ReportAllocs()
				for b.Loop() {
					r.Zero()
					for _, fd := range fds {
						r.Set(fd)
					}
					got, err := pselect(nfd, &r, nil, nil, 0)
					if err == unix.EINTR {
						continue
					}
					if err != nil || got != 1 {
						b.Fatalf("pselect = %d, %v; want 1 ready", got, err)
					}
					for _, fd := range fds {
						if r.IsSet(fd) {
							if got--; got == 0 {
								break
							}
						}
					}
				}
			})
			b.Run("mux", func(b *testing.B) {
				m, err := New()
				if err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				for _, fd := range fds {
					if err := m.Add(fd, mux.Readable); err != nil {
						b.Fatal(err)
					}
				}
				events := make([]mux.Event, 16)
				m.Wait(events, 0) // the first Wait builds the kernel's arguments
				b.ReportAllocs()
				for b.Loop() {
					if got, err := m.Wait(events, 0); err != nil || got != 1 {
						b.Fatalf("Wait = %d, %v; want 1 ready", got, err)
					}
				}
			})
		})
	}
}
