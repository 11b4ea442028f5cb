//go:build linux

package epoll_test

import (
	"fmt"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/epoll"
	"golang.org/x/sys/unix"
)

func Example() {
	m, err := epoll.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])

	if err := m.Add(p[0], mux.Readable); err != nil {
		fmt.Println(err)
		return
	}
	defer m.Remove(p[0]) // Remove before close.

	events := make([]mux.Event, 8)
	n, err := m.Wait(events, 0) // poll
	fmt.Println("before the write:", n, err)

	unix.Write(p[1], []byte("hello"))
	n, err = m.Wait(events, time.Second)
	for _, ev := range events[:n] {
		buf := make([]byte, 16)
		k, _ := unix.Read(ev.FD, buf)
		fmt.Printf("%v: %q\n", ev.Events, buf[:k])
	}

	unix.Shutdown(p[1], unix.SHUT_WR) // the peer is done writing
	n, err = m.Wait(events, time.Second)
	fmt.Println(events[:n][0].Events, err)

	// Output:
	// before the write: 0 <nil>
	// Readable: "hello"
	// Readable|ReadHangup <nil>
}

func ExampleMux_Wake() {
	m, err := epoll.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	go func() {
		time.Sleep(10 * time.Millisecond)
		m.Wake() // from any goroutine
	}()
	n, err := m.Wait(make([]mux.Event, 8), -1) // blocks until woken
	fmt.Println("woken:", n, err)

	// Output:
	// woken: 0 <nil>
}
