//go:build linux

package epoll

import (
	"fmt"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"golang.org/x/sys/unix"
)

// benchFDs returns one readable socket followed by n idle ones.
func benchFDs(b *testing.B, n int) []int {
	c := fds(b)
	ready, _ := c.readablePair(b)
	all := []int{ready}
	for range n {
		idle, _ := c.pair(b)
		all = append(all, idle)
	}
	return all
}

// rawEpoll returns an epoll descriptor watching every fd for what Mux asks
// for Readable: EPOLLIN|EPOLLRDHUP.
func rawEpoll(b *testing.B, fds []int) int {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(epfd) })
	for _, fd := range fds {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			b.Fatal(err)
		}
	}
	return epfd
}

func benchMux(b *testing.B, fds []int) *Mux {
	m := newMux(b)
	for _, fd := range fds {
		mustAdd(b, m, fd, mux.Readable)
	}
	return m
}

// rawPoll and muxPoll poll once and check that the one ready fd was
// reported: both read the event they got, as any event loop must.
func rawPoll(b *testing.B, epfd int, kev []unix.EpollEvent, ready int) {
	if k, err := unix.EpollWait(epfd, kev, 0); k != 1 || err != nil || int(kev[0].Fd) != ready {
		b.Fatalf("EpollWait = %d, %v; want fd %d ready", k, err, ready)
	}
}

func muxPoll(b *testing.B, m *Mux, evs []mux.Event, ready int) {
	if k, err := m.Wait(evs, 0); k != 1 || err != nil || evs[0].FD != ready {
		b.Fatalf("Wait = %d, %v; want fd %d ready", k, err, ready)
	}
}

// BenchmarkWait compares (*Mux).Wait with timeout 0 against a raw loop
// making the same system call: epoll_wait with a timeout of 0 ms (which
// x/sys issues as epoll_pwait with no signal mask), on an epoll instance
// watching one readable socket among n idle ones. Mux polls with
// epoll_wait rather than epoll_pwait2 because a zero timeout needs no
// timespec, so the raw loop calls unix.EpollWait too.
//
// The interleaved sub-benchmark runs the two in alternating batches and
// reports each one's time per call and their ratio: on a shared, noisy
// machine that ratio is steadier than one taken between raw and mux,
// which run seconds apart.
func BenchmarkWait(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			fds := benchFDs(b, n)

			b.Run("raw", func(b *testing.B) {
				epfd := rawEpoll(b, fds)
				kev := make([]unix.EpollEvent, 64)
				b.ReportAllocs()
				for b.Loop() {
					rawPoll(b, epfd, kev, fds[0])
				}
			})

			b.Run("mux", func(b *testing.B) {
				m := benchMux(b, fds)
				evs := make([]mux.Event, 64)
				b.ReportAllocs()
				for b.Loop() {
					muxPoll(b, m, evs, fds[0])
				}
			})

			b.Run("interleaved", func(b *testing.B) {
				epfd := rawEpoll(b, fds)
				kev := make([]unix.EpollEvent, 64)
				m := benchMux(b, fds)
				evs := make([]mux.Event, 64)
				const batch = 64
				var rawT, muxT time.Duration
				calls := 0
				b.ReportAllocs()
				for b.Loop() {
					raw := func() {
						t := time.Now()
						for range batch {
							rawPoll(b, epfd, kev, fds[0])
						}
						rawT += time.Since(t)
					}
					mx := func() {
						t := time.Now()
						for range batch {
							muxPoll(b, m, evs, fds[0])
						}
						muxT += time.Since(t)
					}
					if calls%(2*batch) == 0 { // alternate which goes first
						raw()
						mx()
					} else {
						mx()
						raw()
					}
					calls += batch
				}
				b.ReportMetric(float64(rawT)/float64(calls), "raw-ns/call")
				b.ReportMetric(float64(muxT)/float64(calls), "mux-ns/call")
				b.ReportMetric(float64(muxT)/float64(rawT), "mux/raw")
			})
		})
	}
}

// BenchmarkWaitTimeout is BenchmarkWait with a positive timeout (which
// never expires, since one socket is ready), so that Mux uses
// epoll_pwait2 with a timespec (or epoll_wait with milliseconds where the
// kernel lacks it) and reads the clock once to fix its deadline; the raw
// loop makes the same system call with a constant timeout and no clock
// read.
func BenchmarkWaitTimeout(b *testing.B) {
	const n = 100
	fds := benchFDs(b, n)
	m := benchMux(b, fds)
	name := fmt.Sprintf("N=%d/millis", n)
	if m.pwait2 {
		name = fmt.Sprintf("N=%d/pwait2", n)
	}

	b.Run(name+"/raw", func(b *testing.B) {
		epfd := rawEpoll(b, fds)
		kev := make([]unix.EpollEvent, 64)
		ts := unix.Timespec{Sec: 1}
		b.ReportAllocs()
		for b.Loop() {
			var k int
			var err error
			if m.pwait2 {
				k, err = epollPwait2(epfd, kev, &ts)
			} else {
				k, err = unix.EpollWait(epfd, kev, 1000)
			}
			if k != 1 || err != nil || int(kev[0].Fd) != fds[0] {
				b.Fatalf("epoll wait = %d, %v; want fd %d ready", k, err, fds[0])
			}
		}
	})

	b.Run(name+"/mux", func(b *testing.B) {
		evs := make([]mux.Event, 64)
		b.ReportAllocs()
		for b.Loop() {
			if k, err := m.Wait(evs, time.Second); k != 1 || err != nil || evs[0].FD != fds[0] {
				b.Fatalf("Wait = %d, %v; want fd %d ready", k, err, fds[0])
			}
		}
	})
}
