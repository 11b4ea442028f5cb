package fake_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// The benchmarks compare a fake call with the real system call it stands
// for, in the same run: BenchmarkWait/fake against epoll_wait, Read and
// Write against read(2) and write(2) on a socketpair. Compare ratios, not
// absolute times.

const benchChunk = 64

func BenchmarkWait(b *testing.B) {
	b.Run("fake", func(b *testing.B) {
		k := fake.New(fake.Config{})
		m, _ := k.NewMux()
		defer m.Close()
		x, y, _ := k.Pair()
		k.Write(y, []byte("x"))
		if err := m.Add(x, mux.Readable); err != nil {
			b.Fatal(err)
		}
		evs := make([]mux.Event, 8)
		b.ReportAllocs()
		for b.Loop() {
			if n, err := m.Wait(evs, 0); n != 1 || err != nil {
				b.Fatalf("Wait = %d, %v; want 1, nil", n, err)
			}
		}
	})
	benchOSWait(b)
}

func BenchmarkRead(b *testing.B) {
	b.Run("fake", func(b *testing.B) {
		k := fake.New(fake.Config{})
		x, y, _ := k.Pair()
		benchRead(b, x, y, k.Read, k.Write)
	})
	benchOSRead(b)
}

func BenchmarkWrite(b *testing.B) {
	b.Run("fake", func(b *testing.B) {
		k := fake.New(fake.Config{})
		x, y, _ := k.Pair()
		benchWrite(b, x, y, k.Read, k.Write)
	})
	benchOSWrite(b)
}

type ioFunc func(fd int, p []byte) (int, error)

// benchRead times reads of benchChunk bytes from x, refilling through y
// with the timer stopped whenever x runs dry.
func benchRead(b *testing.B, x, y int, read, write ioFunc) {
	buf := make([]byte, benchChunk)
	fill := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		n, err := read(x, buf)
		if err == unix.EAGAIN {
			b.StopTimer()
			for {
				if _, err := write(y, fill); err != nil {
					break
				}
			}
			b.StartTimer()
			n, err = read(x, buf)
		}
		if n != benchChunk || err != nil {
			b.Fatalf("read = %d, %v; want %d, nil", n, err, benchChunk)
		}
	}
}

// benchWrite times writes of benchChunk bytes to x, draining through y
// with the timer stopped whenever x's buffer fills.
func benchWrite(b *testing.B, x, y int, read, write ioFunc) {
	buf := make([]byte, benchChunk)
	drain := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		n, err := write(x, buf)
		if err == unix.EAGAIN {
			b.StopTimer()
			for {
				if _, err := read(y, drain); err != nil {
					break
				}
			}
			b.StartTimer()
			n, err = write(x, buf)
		}
		if n != benchChunk || err != nil {
			b.Fatalf("write = %d, %v; want %d, nil", n, err, benchChunk)
		}
	}
}
