//go:build linux

package fake_test

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/epoll"
)

// TestNaiveLoopOnLinux: the naive loop with its bugs fixed, the one the
// fake passes, is correct on real sockets too: loopback TCP, epoll, and
// loop.OS as its I/O.
func TestNaiveLoopOnLinux(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen = %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil {
					c.Write([]byte("hello " + strings.TrimPrefix(strings.TrimSpace(line), "GET /") + "\n"))
				}
			}()
		}
	}()
	m, err := epoll.New()
	if err != nil {
		t.Fatalf("epoll.New = %v", err)
	}
	defer m.Close()
	tasks, err := naive(m, loop.OS(), ln.Addr().String(), []string{"GET /a\n", "GET /b\n"}, 0)
	if err != nil {
		t.Fatalf("naive loop on epoll = %v", err)
	}
	for i, want := range []string{"hello a\n", "hello b\n"} {
		if got := string(tasks[i].resp); got != want || tasks[i].err != nil {
			t.Errorf("task %d: %q, %v; want %q", i, got, tasks[i].err, want)
		}
	}
}
