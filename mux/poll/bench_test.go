package poll

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/internal/pollset/pollsettest"
	"github.com/muxkit/muxkit/mux"
)

// BenchmarkWait compares Wait(events, 0) with one ready descriptor among
// N against a raw loop making the same system call (ppoll on Linux) on the
// same descriptors and scanning its results.
func BenchmarkWait(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			fds := pollsettest.BenchFDs(b, n)
			b.Run("raw", func(b *testing.B) {
				pfds := make([]unix.PollFd, len(fds))
				for i, fd := range fds {
					pfds[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
				}
				b.ReportAllocs()
				for b.Loop() {
					got, err := ppoll(pfds, 0)
					if err == unix.EINTR {
						continue
					}
					if err != nil || got != 1 {
						b.Fatalf("ppoll = %d, %v; want 1 ready", got, err)
					}
					for i := range pfds {
						if pfds[i].Revents != 0 {
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
