package loop_test

import (
	"fmt"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/statemachine"
)

// The loop on the fake kernel: an echo server of ServerConn machines and
// three client exchanges, in one goroutine and in virtual time. Each
// connect takes the kernel's latency (1ms); short writes, switched on
// here, make the clients send their requests in pieces.
func Example() {
	k := fake.New(fake.Config{Seed: 7, Faults: fake.Faults{ShortWrite: 0.5}})
	m, _ := k.NewMux()
	defer m.Close()
	l, _ := loop.New(loop.Config{Mux: m, Sys: k})
	start := l.Now()

	lfd, _ := k.Listen("echo:7")
	l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, now) // echoes lines
		return &s
	}, nil)

	left := 3
	for _, msg := range []string{"hello\n", "event loops\n", "in virtual time\n"} {
		l.Dial("echo:7", func(now time.Time) loop.Task {
			c := statemachine.NewClient(statemachine.ClientConfig{
				Request: []byte(msg),
				Framing: statemachine.Line,
				Timeout: time.Second,
			}, now)
			return &c
		}, func(r loop.Result) {
			c := r.Task.(*statemachine.Client)
			fmt.Printf("%v: %q -> %q, err %v\n", l.Now().Sub(start), msg, c.Response(), r.Err)
			if left--; left == 0 {
				l.Stop() // graceful: the server connections finish too
			}
		})
	}
	err := l.Run()
	open, _ := k.Descriptors()
	fmt.Println("Run:", err, "open descriptors:", len(open))
	// Output:
	// 1ms: "hello\n" -> "hello\n", err <nil>
	// 1ms: "event loops\n" -> "event loops\n", err <nil>
	// 1ms: "in virtual time\n" -> "in virtual time\n", err <nil>
	// Run: <nil> open descriptors: 1
}
