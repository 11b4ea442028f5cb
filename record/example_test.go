package record_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
	"github.com/muxkit/muxkit/statemachine"
)

// A loop recorded: one echo exchange on the fake kernel, each call the
// loop made printed with its result and its virtual time. On real
// sockets it is the same, with the real Multiplexer and loop.OS() in
// place of the fake's, and a file in place of the buffer.
func Example() {
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	var file bytes.Buffer
	r, _ := record.New(&file, m, k, record.Config{Clock: k.Now})

	l, _ := loop.New(loop.Config{Mux: r.Mux(), Sys: r.Sys()})
	lfd, _ := r.Sys().Listen("echo:7")
	l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, now) // echoes lines
		return &s
	}, nil)
	l.Dial("echo:7", func(now time.Time) loop.Task {
		c := statemachine.NewClient(statemachine.ClientConfig{Request: []byte("hello\n"), Framing: statemachine.Line}, now)
		return &c
	}, func(loop.Result) { l.Stop() })
	l.Run()
	r.Mux().Close()
	r.Close()

	rec, err := record.Read(&file)
	fmt.Println(len(rec.Calls), "calls, err", err)
	// rec.Print(os.Stdout, 32) prints every call; here the reads, the
	// writes and the Waits that reported something.
	for _, c := range rec.Calls {
		if c.Op == record.OpRead || c.Op == record.OpWrite || c.Op == record.OpWait && c.N > 0 {
			fmt.Println(c)
		}
	}
	// Output:
	// 34 calls, err <nil>
	// 6 +0s wait 256 forever -> 2 [fd 4: Readable, fd 5: Writable] (took 1ms)
	// 12 +1ms write fd=5 6 -> 6 "hello\n"
	// 15 +1ms wait 256 1m0s -> 1 [fd 6: Readable] (took 0s)
	// 16 +1ms read fd=6 4096 -> 6 "hello\n"
	// 19 +1ms wait 256 1m0s -> 1 [fd 6: Writable] (took 0s)
	// 20 +1ms write fd=6 6 -> 6 "hello\n"
	// 23 +1ms wait 256 1m0s -> 1 [fd 5: Readable] (took 0s)
	// 24 +1ms read fd=5 4096 -> 6 "hello\n"
	// 30 +1ms wait 256 1m0s -> 1 [fd 6: Readable|ReadHangup] (took 0s)
	// 31 +1ms read fd=6 4096 -> 0
}
