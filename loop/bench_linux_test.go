package loop_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/epoll"
	"github.com/muxkit/muxkit/statemachine"
)

// benchConns is how many connections the serving benchmarks keep open at
// once; each does its share of b.N request/response round trips.
const benchConns = 100

// BenchmarkServe compares, in one run, the same clients served by the
// loop on epoll (one goroutine, ServerConn machines), level-triggered and
// edge-triggered, and by goroutine-per-connection net code. ns/op is per
// round trip of a 64-byte line over 127.0.0.1 TCP.
func BenchmarkServe(b *testing.B) {
	b.Run("loop-epoll", func(b *testing.B) { benchLoop(b, false) })
	b.Run("loop-epoll-edge", func(b *testing.B) { benchLoop(b, true) })
	b.Run("goroutines", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatalf("net.Listen = %v", err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					buf := make([]byte, 4096)
					for {
						n, err := c.Read(buf)
						if n > 0 {
							if _, err := c.Write(buf[:n]); err != nil {
								return
							}
						}
						if err != nil {
							return
						}
					}
				}()
			}
		}()
		pingPong(b, ln.Addr().String())
		ln.Close()
		wg.Wait()
	})
}

// pingPong dials benchConns connections to addr and, timed, makes b.N
// round trips over them in all, each connection in its own goroutine.
func pingPong(b *testing.B, addr string) {
	conns := make([]net.Conn, benchConns)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatalf("Dial = %v", err)
		}
		conns[i] = c
	}
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	msg[len(msg)-1] = '\n'
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, c := range conns {
		trips := b.N / benchConns
		if i < b.N%benchConns {
			trips++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, len(msg))
			for range trips {
				if _, err := c.Write(msg); err != nil {
					b.Errorf("Write = %v", err)
					return
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Errorf("Read = %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	for _, c := range conns {
		c.Close()
	}
}

// benchLoop is BenchmarkServe's loop on epoll, edge-triggered if edge.
func benchLoop(b *testing.B, edge bool) {
	m, err := epoll.New()
	if err != nil {
		b.Fatalf("epoll.New() = %v", err)
	}
	defer m.Close()
	sys := loop.OS()
	l, err := loop.New(loop.Config{Mux: m, Sys: sys, EdgeTriggered: edge})
	if err != nil {
		b.Fatalf("loop.New = %v", err)
	}
	lfd, err := sys.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatalf("Listen = %v", err)
	}
	addr := resolver(b)(lfd)
	l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, now)
		return &s
	}, nil)
	ran := make(chan error, 1)
	go func() { ran <- l.Run() }()
	pingPong(b, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		b.Errorf("Shutdown = %v; want a graceful stop", err)
	}
	if err := <-ran; err != nil {
		b.Errorf("Run() = %v", err)
	}
}

// BenchmarkConnect compares, in one run, what a connection costs to set
// up and tear down through loop.OS — Dial, Accept, both Closed — and
// through the fewest system calls x/sys/unix can do it in: socket and
// accept4 that make the descriptor non-blocking and close-on-exec
// themselves, TCP_NODELAY, connect, close. ns/op is per connection, over
// 127.0.0.1 TCP.
func BenchmarkConnect(b *testing.B) {
	s := loop.OS()
	lfd, err := s.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatalf("Listen = %v", err)
	}
	defer s.Close(lfd)
	addr := resolver(b)(lfd)
	sa, err := unix.Getsockname(lfd)
	if err != nil {
		b.Fatalf("getsockname = %v", err)
	}
	const flags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	for _, c := range []struct {
		name string
		dial func() (int, error)
		sys  loop.Sys
	}{
		{"loop.OS", func() (int, error) { return s.Dial(addr) }, s},
		{"raw", func() (int, error) {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|flags, 0)
			if err != nil {
				return -1, err
			}
			unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			if err := unix.Connect(fd, sa); err != nil && err != unix.EINPROGRESS {
				unix.Close(fd)
				return -1, err
			}
			return fd, nil
		}, rawConnect{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				cfd, err := c.dial()
				if err != nil {
					b.Fatalf("dial = %v", err)
				}
				afd := acceptOne(b, c.sys, lfd)
				c.sys.Close(afd)
				c.sys.Close(cfd)
			}
		})
	}
}

// rawConnect is the Accept and Close of BenchmarkConnect's raw side: accept4
// and TCP_NODELAY alone.
type rawConnect struct{ loop.Sys }

func (rawConnect) Accept(lfd int) (int, error) {
	fd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, err
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return fd, nil
}

func (rawConnect) Close(fd int) error { return unix.Close(fd) }
