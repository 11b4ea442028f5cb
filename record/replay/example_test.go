package replay_test

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/muxkit/muxkit/loop"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/record"
	"github.com/muxkit/muxkit/record/replay"
	"github.com/muxkit/muxkit/statemachine"
)

// echo is the code under test: a loop with an echo server on lfd and
// one client that sends a line to addr and reads the answer readSize
// bytes at a time. It returns the client's answer and Run's error.
func echo(m mux.Multiplexer, sys loop.Sys, lfd int, addr string, readSize int) (string, error) {
	l, err := loop.New(loop.Config{Mux: m, Sys: sys})
	if err != nil {
		return "", err
	}
	l.Serve(lfd, func(now time.Time) loop.Task {
		s := statemachine.NewServerConn(statemachine.ServerConfig{}, now)
		return &s
	}, nil)
	var answer string
	l.Dial(addr, func(now time.Time) loop.Task {
		c := statemachine.NewClient(statemachine.ClientConfig{Request: []byte("hello\n"), Framing: statemachine.Line, ReadSize: readSize}, now)
		return &c
	}, func(r loop.Result) {
		answer = string(r.Task.(*statemachine.Client).Response())
		l.Stop()
	})
	err = l.Run()
	return answer, err
}

// A recording replayed: the same code sees the recorded results again,
// call for call, and a changed one — its client reads 2 bytes at a time where the
// recorded one read 4096 — is stopped at its first read, with the
// recorded call and the one asked. The recording is made on the fake
// here, so that the example runs anywhere; one made on real sockets
// replays the same way.
func Example() {
	// Record.
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	var file bytes.Buffer
	r, _ := record.New(&file, m, k, record.Config{Clock: k.Now})
	lfd, _ := r.Sys().Listen("echo:7")
	echo(r.Mux(), r.Sys(), lfd, "echo:7", 0)
	r.Mux().Close()
	r.Close()
	rec, _ := record.Read(&file)

	// Replay the same code: it sees what was recorded, and Close finds
	// every recorded call made.
	rp, _ := replay.New(rec, replay.Config{})
	lfd, _ = rp.Sys().Listen("echo:7")
	answer, err := echo(rp.Mux(), rp.Sys(), lfd, "echo:7", 0)
	rp.Mux().Close()
	fmt.Printf("same code: %q, Run: %v, Close: %v\n", answer, err, rp.Close())

	// Replay a changed one: its loop's Run returns the Divergence.
	rp, _ = replay.New(rec, replay.Config{})
	lfd, _ = rp.Sys().Listen("echo:7")
	_, err = echo(rp.Mux(), rp.Sys(), lfd, "echo:7", 2)
	rp.Mux().Close()
	var d *replay.Divergence
	if errors.As(err, &d) && rp.Close() == d {
		fmt.Printf("changed code: stopped at call %d\n\trecorded: %v\n\tasked:    %s\n", d.Seq, d.Recorded, d.Asked.Asked())
	}
	fmt.Println(err)
	// Output:
	// same code: "hello\n", Run: <nil>, Close: <nil>
	// changed code: stopped at call 24
	// 	recorded: 24 +1ms read fd=5 4096 -> 6 "hello\n"
	// 	asked:    read fd=5 2
	// replay: the code under test parted from the recording at call 24:
	// 	before:   21 +1ms modify fd=6 Readable -> ok
	// 	before:   22 +1ms now
	// 	before:   23 +1ms wait 256 1m0s -> 1 [fd 5: Readable] (took 0s)
	// 	recorded: 24 +1ms read fd=5 4096 -> 6 "hello\n"
	// 	asked:    read fd=5 2
}

// Exploring around a recording: the calls up to the client's first
// write are replayed, then a seed takes over with short reads and
// writes switched on. Each seed is a run of its own, the same each
// time; the loop's answer holds under all of them.
func ExampleConfig_takeOver() {
	k := fake.New(fake.Config{})
	m, _ := k.NewMux()
	var file bytes.Buffer
	r, _ := record.New(&file, m, k, record.Config{Clock: k.Now})
	lfd, _ := r.Sys().Listen("echo:7")
	echo(r.Mux(), r.Sys(), lfd, "echo:7", 0)
	r.Mux().Close()
	r.Close()
	rec, _ := record.Read(&file)

	var from uint64
	for _, c := range rec.Calls {
		if c.Op == record.OpWrite {
			from = c.Seq
			break
		}
	}
	for seed := uint64(1); seed <= 3; seed++ {
		rp, _ := replay.New(rec, replay.Config{TakeOver: from, Kernel: fake.Config{
			Seed:   seed,
			Faults: fake.Faults{ShortRead: 0.5, ShortWrite: 0.5},
		}})
		lfd, _ := rp.Sys().Listen("echo:7")
		answer, err := echo(rp.Mux(), rp.Sys(), lfd, "echo:7", 0)
		rp.Mux().Close()
		fmt.Printf("seed %d: %q, Run: %v, Close: %v, faults: %d\n", seed, answer, err, rp.Close(), len(rp.Kernel().Schedule()))
	}
	// Output:
	// seed 1: "hello\n", Run: <nil>, Close: <nil>, faults: 2
	// seed 2: "hello\n", Run: <nil>, Close: <nil>, faults: 3
	// seed 3: "hello\n", Run: <nil>, Close: <nil>, faults: 5
}
