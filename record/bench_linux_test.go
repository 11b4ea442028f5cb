package record_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/measure"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
	"github.com/muxkit/muxkit/record"
)

// BenchmarkRecorder prices the recorder: each operation made through
// epoll and loop.OS unwrapped (the scenario's raw side) and through a
// Recorder writing to a file (its mux side), each side with descriptors
// of its own, then both in alternating chunks as "interleaved", whose
// mux/raw is the ratio to quote and mux-ns/op − raw-ns/op the cost of
// recording one call:
//
//	go test -run '^$' -bench 'Recorder/.*/.*/interleaved' -count 3 ./record
//
// "recorded" keeps every byte moved, "checksum" only their checksum
// (Config.Reads and Config.Writes NoBytes).
func BenchmarkRecorder(b *testing.B) {
	// Wait with one descriptor ready, which returns at once.
	b.Run("wait/recorded", func(b *testing.B) {
		measure.Bench(b, scenario(b, record.Config{}, waitOp), "raw", "recorded")
	})
	// A read of size bytes that are there (a few fewer, now and then),
	// and a write of size bytes that fit; the other end is refilled or drained, unrecorded, when the
	// socket runs dry or full (on both sides alike).
	for _, size := range []int{512, 16 << 10} {
		for _, keep := range []string{"recorded", "checksum"} {
			cfg := record.Config{}
			if keep == "checksum" {
				cfg.Reads, cfg.Writes = record.NoBytes, record.NoBytes
			}
			b.Run("read"+strconv.Itoa(size)+"/"+keep, func(b *testing.B) {
				measure.Bench(b, scenario(b, cfg, readOp(size)), "raw", keep)
			})
			b.Run("write"+strconv.Itoa(size)+"/"+keep, func(b *testing.B) {
				measure.Bench(b, scenario(b, cfg, writeOp(size)), "raw", keep)
			})
		}
	}
}

// An op makes, n times, one operation through m or sys on fds[0] of a
// socketpair, using fds[1] unrecorded to keep it possible.
type op func(m mux.Multiplexer, sys loop.Sys, fds [2]int) func(n int) error

// scenario prepares op twice: through epoll and loop.OS, and through a
// Recorder set up by cfg wrapping another epoll and loop.OS, writing to a
// file.
func scenario(b *testing.B, cfg record.Config, op op) *measure.Scenario {
	m, sys, fds := open(b)
	raw := op(m, sys, fds)
	m, sys, fds = open(b)
	f, err := os.Create(filepath.Join(b.TempDir(), "rec"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := record.New(f, m, sys, cfg)
	if err != nil {
		b.Fatalf("record.New = %v", err)
	}
	b.Cleanup(func() {
		if err := errors.Join(r.Close(), f.Close()); err != nil {
			b.Errorf("the recording: %v", err)
		}
	})
	return &measure.Scenario{Raw: raw, Mux: op(r.Mux(), r.Sys(), fds), PerOp: 1}
}

// open returns an epoll Multiplexer, loop.OS and a non-blocking
// socketpair, closed when b ends.
func open(b *testing.B) (mux.Multiplexer, loop.Sys, [2]int) {
	m, err := epoll.New()
	if err != nil {
		b.Fatalf("epoll.New = %v", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		m.Close()
		b.Fatalf("socketpair: %v", err)
	}
	b.Cleanup(func() { m.Close(); unix.Close(fds[0]); unix.Close(fds[1]) })
	return m, loop.OS(), [2]int{fds[0], fds[1]}
}

// waitOp waits with timeout 0 on fds[0], kept readable.
func waitOp(m mux.Multiplexer, _ loop.Sys, fds [2]int) func(int) error {
	events := make([]mux.Event, 8)
	unix.Write(fds[1], []byte("x"))
	err := m.Add(fds[0], mux.Readable)
	return func(n int) error {
		for range n {
			if err != nil {
				return err
			}
			if k, err := m.Wait(events, 0); k != 1 || err != nil {
				return fmt.Errorf("Wait = %d, %v; want the one ready", k, err)
			}
		}
		return nil
	}
}

// readOp reads up to size bytes from fds[0], refilling it through fds[1]
// when it runs dry.
func readOp(size int) op {
	return func(_ mux.Multiplexer, sys loop.Sys, fds [2]int) func(int) error {
		p, fill := make([]byte, size), make([]byte, 64<<10)
		return func(n int) error {
			for range n {
				k, err := sys.Read(fds[0], p)
				if err == unix.EAGAIN {
					for {
						if _, err := unix.Write(fds[1], fill); err != nil {
							break
						}
					}
					k, err = sys.Read(fds[0], p)
				}
				// The refill's last write is short: one read in a few
				// hundred returns the rest of it, fewer than size bytes.
				if k <= 0 || err != nil {
					return fmt.Errorf("read = %d, %v; want up to %d bytes", k, err, size)
				}
			}
			return nil
		}
	}
}

// writeOp writes size bytes to fds[0], draining fds[1] when it is full.
func writeOp(size int) op {
	return func(_ mux.Multiplexer, sys loop.Sys, fds [2]int) func(int) error {
		p, drain := make([]byte, size), make([]byte, 64<<10)
		return func(n int) error {
			for range n {
				k, err := sys.Write(fds[0], p)
				if err == unix.EAGAIN {
					for {
						if k, _ := unix.Read(fds[1], drain); k <= 0 {
							break
						}
					}
					k, err = sys.Write(fds[0], p)
				}
				if k != size || err != nil {
					return fmt.Errorf("write = %d, %v; want %d bytes", k, err, size)
				}
			}
			return nil
		}
	}
}
