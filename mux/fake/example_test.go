package fake_test

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
)

// A scripted readiness test: the test decides what is ready, and checks
// what the code under test does with it.
func ExampleKernel_SetReady() {
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	defer m.Close()
	a, b, _ := k.Pair()
	m.Add(a, mux.Readable|mux.Writable)

	events := make([]mux.Event, 4)
	n, _ := m.Wait(events, 0)
	fmt.Println("idle:", events[:n])

	k.Write(b, []byte("hello"))
	n, _ = m.Wait(events, 0)
	fmt.Println("data:", events[:n])

	k.SetReady(a, mux.Hangup) // forced on top of what a really is
	n, _ = m.Wait(events, 0)
	fmt.Println("forced:", events[:n])
	// Output:
	// idle: [fd 4: Writable]
	// data: [fd 4: Readable|Writable]
	// forced: [fd 4: Readable|Writable|Hangup]
}

// A seeded fault run: with short writes switched on, a loop that writes a
// buffer must keep going until all of it is sent. The same seed gives the
// same sizes, and the same trace hash, on every run.
func ExampleFaults() {
	for range 2 {
		k := fake.New(fake.Config{Seed: 2024, Faults: fake.Faults{ShortWrite: 0.9}})
		a, b, _ := k.Pair()
		msg := make([]byte, 1000)
		var sizes []int
		for len(msg) > 0 {
			n, err := k.Write(a, msg)
			if err != nil {
				fmt.Println(err)
				return
			}
			sizes = append(sizes, n)
			msg = msg[n:]
		}
		got, _ := k.Read(b, make([]byte, 2000))
		fmt.Printf("writes %v, peer read %d bytes, trace hash %#x\n", sizes, got, k.TraceHash())
	}
	// Output:
	// writes [622 207 146 3 15 2 3 1 1], peer read 1000 bytes, trace hash 0x56d9d8669833cd20
	// writes [622 207 146 3 15 2 3 1 1], peer read 1000 bytes, trace hash 0x56d9d8669833cd20
}

// A timeout in virtual time: Wait jumps the clock instead of sleeping, and
// stops early at a scheduled instant, here a connect completing.
func ExampleMux_Wait() {
	k := fake.New(fake.Config{Latency: 250 * time.Millisecond})
	m, _ := k.NewMux()
	defer m.Close()
	events := make([]mux.Event, 4)
	start := k.Now()

	n, _ := m.Wait(events, 10*time.Second) // nothing added: a pure timeout
	fmt.Println(n, "events after", k.Now().Sub(start))

	c, _ := k.Socket()
	fmt.Println("connect:", k.Connect(c, "nobody:1") == syscall.EINPROGRESS)
	m.Add(c, mux.Writable)
	n, _ = m.Wait(events, 10*time.Second)
	fmt.Println(events[:n], "after", k.Now().Sub(start), "-", k.SockErr(c))
	// Output:
	// 0 events after 10s
	// connect: true
	// [fd 4: Writable|Hangup|Error] after 10.25s - connection refused
}

// A peer that reacts: a server run by the kernel answers a request with
// its header at once and its body 5ms later, at virtual instants, with
// no goroutine and no script of the exchange.
func ExampleKernel_Serve() {
	k := fake.New(fake.Config{})
	k.Serve("web:80", func(fd int) fake.Handler {
		return func(fd int, ev mux.Events) {
			if n, _ := k.Read(fd, make([]byte, 64)); n > 0 {
				k.Write(fd, []byte("header;"))
				k.SetDelay(fd, 5*time.Millisecond, 0)
				k.Write(fd, []byte("body"))
				k.Close(fd)
			}
		}
	})
	m, _ := k.NewMux()
	defer m.Close()
	c, _ := k.Dial("web:80")
	m.Add(c, mux.Writable)
	events := make([]mux.Event, 4)
	m.Wait(events, time.Second) // connected
	k.Write(c, []byte("GET"))
	m.Modify(c, mux.Readable)
	buf := make([]byte, 64)
	for {
		n, _ := m.Wait(events, time.Second)
		r, _ := k.Read(c, buf)
		fmt.Printf("%v: %v %q\n", k.Elapsed(), events[:n], buf[:r])
		if r == 0 {
			break
		}
	}
	// Output:
	// 1ms: [fd 5: Readable] "header;"
	// 6ms: [fd 5: Readable|ReadHangup] "body"
	// 6ms: [fd 5: Readable|ReadHangup] ""
}

// An edge-triggered reader that stops before EAGAIN: the fake, like
// epoll, never reports the rest of the data, and the Wait that would wait
// for it for good fails instead, naming the stranded descriptor.
func ExampleStranded() {
	k := fake.New(fake.Config{Horizon: time.Minute})
	m, _ := k.NewMux()
	defer m.Close()
	a, b, _ := k.Pair()
	m.Add(a, mux.Readable|mux.EdgeTriggered)
	k.Write(b, []byte("GET /a\nGET /b\n"))

	events := make([]mux.Event, 4)
	buf := make([]byte, 7)
	for {
		n, err := m.Wait(events, time.Second)
		var stuck *fake.HorizonError
		if errors.As(err, &stuck) {
			fmt.Println(stuck.Stranded[0])
			return
		}
		for _, ev := range events[:n] {
			got, _ := k.Read(ev.FD, buf) // one read per report: the bug
			fmt.Printf("read %q\n", buf[:got])
		}
	}
	// Output:
	// read "GET /a\n"
	// fd 4 has 7 unread bytes, is registered Readable|EdgeTriggered, and was last reported (Readable) at 0s: it will not be reported again until more data arrives; a loop must read until EAGAIN, and handle every event of a batch
}
