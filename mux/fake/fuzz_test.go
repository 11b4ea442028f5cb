package fake_test

import (
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// FuzzKernel drives two fake socket pairs and a Multiplexer through a
// random sequence of calls, two bytes per call, and checks what a loop
// relies on: bytes read are the next bytes the peer wrote; a read finds
// data when data is there, and the end of the stream only after it; Wait
// reports only added descriptors, within their interest plus the
// conditions reported whatever it is (a descriptor closed while added,
// with Error or not at all); a descriptor with unread data added
// for Readable is reported Readable on every Wait (level triggering); and
// a Wait that reports nothing has let its whole timeout pass in virtual
// time. No faults are switched on: with them, the fake departs from these
// rules on purpose.
func FuzzKernel(f *testing.F) {
	f.Add([]byte{0, 10, 2, 1, 5, 1, 1, 20, 5, 0})
	f.Add([]byte{2, 5, 0, 200, 0, 200, 5, 3, 6, 0, 1, 255, 1, 255, 5, 2, 7, 1, 1, 9, 5, 0})
	f.Add([]byte{2, 0, 2, 1, 2, 2, 2, 3, 0, 3, 0, 4, 0, 5, 5, 2, 3, 1, 4, 0, 5, 1, 7, 2, 5, 3, 1, 6})
	f.Fuzz(func(t *testing.T, prog []byte) {
		const ends = 4 // fds[0]–fds[1] and fds[2]–fds[3] are connected
		// No faults; no busy-loop or horizon detection either: the calls
		// are random, not a loop's, and may Wait again and again.
		k := fake.New(fake.Config{Seed: 1, BusyLoop: -1, Horizon: -1})
		m, err := k.NewMux()
		if err != nil {
			t.Fatalf("NewMux = %v", err)
		}
		defer m.Close()
		var (
			fds      [ends]int
			written  [ends]int // bytes end i wrote
			read     [ends]int // bytes end i read
			shut     [ends]bool
			closed   [ends]bool
			interest [ends]mux.Events
		)
		for i := 0; i < ends; i += 2 {
			if fds[i], fds[i+1], err = k.Pair(); err != nil {
				t.Fatalf("Pair = %v", err)
			}
		}
		peer := func(i int) int { return i ^ 1 }
		// pattern is the byte at offset off of the stream end i writes.
		pattern := func(i, off int) byte { return byte(off*7 + i*61) }
		buf := make([]byte, 256)
		events := make([]mux.Event, 2*ends)

		for len(prog) >= 2 {
			op, arg := prog[0]%8, int(prog[1])
			prog = prog[2:]
			i := arg % ends
			if closed[i] && op != 5 {
				continue // a closed number may be reused; the model does not follow it
			}
			fd := fds[i]
			switch op {
			case 0: // write
				if shut[i] || closed[peer(i)] || shut[peer(i)] {
					continue // the TCP cases of a write that meets a closed peer have their own tests
				}
				p := buf[:arg%64+1]
				for j := range p {
					p[j] = pattern(i, written[i]+j)
				}
				n, err := k.Write(fd, p)
				switch {
				case err == nil && n > 0:
					written[i] += n
				case errors.Is(err, syscall.EAGAIN):
				default:
					t.Fatalf("Write(fd %d, %d bytes) = %d, %v; want a count or EAGAIN", fd, len(p), n, err)
				}
			case 1: // read
				n, err := k.Read(fd, buf[:arg%96+1])
				unread := written[peer(i)] - read[i]
				switch {
				case errors.Is(err, syscall.ECONNRESET):
					// The peer closed with bytes of ours unread: a reset,
					// which comes after the bytes it sent.
					if !closed[peer(i)] || unread > 0 {
						t.Fatalf("Read(fd %d) = %v with %d bytes unread (peer closed %v); want a reset only after the peer closed, and after its bytes", fd, err, unread, closed[peer(i)])
					}
				case err != nil:
					if !errors.Is(err, syscall.EAGAIN) || unread > 0 || closed[peer(i)] || shut[peer(i)] {
						t.Fatalf("Read(fd %d) = %v with %d bytes unread (peer closed %v, shut %v); want data, or EAGAIN only when nothing is coming",
							fd, err, unread, closed[peer(i)], shut[peer(i)])
					}
				case n == 0:
					if unread > 0 || !(closed[peer(i)] || shut[peer(i)]) {
						t.Fatalf("Read(fd %d) = end of stream with %d bytes unread (peer closed %v, shut %v)", fd, unread, closed[peer(i)], shut[peer(i)])
					}
				default:
					for j := range n {
						if want := pattern(peer(i), read[i]+j); buf[j] != want {
							t.Fatalf("Read(fd %d): byte %d of the stream is %#x; want %#x, the next byte the peer wrote", fd, read[i]+j, buf[j], want)
						}
					}
					read[i] += n
				}
			case 2: // Add, or Modify when added
				ev := mux.Events(arg>>2)%7 + 1 // a non-empty subset of Readable|Writable|Priority
				ev = ev&1*mux.Readable | ev>>1&1*mux.Writable | ev>>2&1*mux.Priority
				if interest[i] == 0 {
					err = m.Add(fd, ev)
				} else {
					err = m.Modify(fd, ev)
				}
				if err != nil {
					t.Fatalf("Add or Modify(fd %d, %v) = %v", fd, ev, err)
				}
				interest[i] = ev
			case 3: // Remove
				err := m.Remove(fd)
				if (err == nil) != (interest[i] != 0) {
					t.Fatalf("Remove(fd %d) = %v; the fd was added: %v", fd, err, interest[i] != 0)
				}
				interest[i] = 0
			case 4: // shut the writing side
				if err := k.ShutdownWrite(fd); err != nil && !closed[peer(i)] {
					t.Fatalf("ShutdownWrite(fd %d) = %v", fd, err)
				}
				shut[i] = true
			case 5: // Wait
				timeout := [4]time.Duration{0, time.Microsecond, time.Millisecond, time.Second}[arg%4]
				before := k.Now()
				n, err := m.Wait(events, timeout)
				if err != nil {
					t.Fatalf("Wait(%v) = %v", timeout, err)
				}
				if n == 0 && timeout > 0 {
					if waited := k.Now().Sub(before); waited < timeout {
						t.Fatalf("Wait(%v) returned nothing after %v of virtual time; want the whole timeout", timeout, waited)
					}
				}
				seen := map[int]bool{}
				for _, e := range events[:n] {
					j := slices.Index(fds[:], e.FD)
					switch {
					case j < 0 || interest[j] == 0:
						t.Fatalf("Wait reported fd %d (%v), which is not added", e.FD, e.Events)
					case closed[j] && e.Events != mux.Error:
						t.Fatalf("Wait reported fd %d, closed while added, with %v; want Error or nothing", e.FD, e.Events)
					case seen[e.FD]:
						t.Fatalf("Wait reported fd %d twice", e.FD)
					case e.Events&^(interest[j]|mux.ReadHangup|mux.Hangup|mux.Error) != 0:
						t.Fatalf("Wait reported fd %d with %v; its interest is %v", e.FD, e.Events, interest[j])
					}
					seen[e.FD] = true
				}
				for j := range ends {
					if !closed[j] && interest[j]&mux.Readable != 0 && written[peer(j)] > read[j] {
						if !reportsReadable(events[:n], fds[j]) {
							t.Fatalf("Wait did not report fd %d Readable with %d bytes unread (level triggering): %v", fds[j], written[peer(j)]-read[j], events[:n])
						}
					}
				}
			case 6: // close, without Remove
				if err := k.Close(fd); err != nil {
					t.Fatalf("Close(fd %d) = %v", fd, err)
				}
				closed[i] = true // still added: rule 10
			case 7: // let virtual time pass
				k.Advance(time.Duration(arg) * time.Millisecond)
			}
		}
	})
}

func reportsReadable(evs []mux.Event, fd int) bool {
	for _, e := range evs {
		if e.FD == fd {
			return e.Events&mux.Readable != 0
		}
	}
	return false
}
