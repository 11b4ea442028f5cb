//go:build linux

package fake_test

import (
	"testing"

	"github.com/muxkit/muxkit/mux"
)

// The edge-triggered and one-shot registrations of the fake, against
// Linux's epoll with EPOLLET and EPOLLONESHOT, step by step, as
// TestFidelity does for level-triggered ones: every descriptor of a
// script is added with the script's modes, and a "wait" step shows all
// that a Wait(0) reports, by name. What Linux does in each is said in the
// comment above the script; where the fake cannot follow it, the script
// stays out of that case and docs/guide-testing-with-fake.md says so.
var modeScripts = []struct {
	modes mux.Events
	script
}{
	// Add is an edge when a condition holds; then nothing, however long
	// it holds. Each arrival of data is an edge, with or without unread
	// data before it, and the report carries every condition that holds
	// (Writable too). A partial read is no edge, for anyone. A read that
	// finishes one of the writes of an AF_UNIX peer tells the writer it
	// has room (Linux frees that write's buffer); on TCP it does not,
	// since the writer never found its buffer full.
	{mux.EdgeTriggered, script{"edge: arrivals, a partial read, a read to the end", []string{"tcp", "unix"}, "conn", `
		wait
		wait
		write b xy
		wait
		wait
		read a 1
		wait
		write b z
		wait
		read a
		wait
		read a
		wait`}},
	// A change of state is an edge of both ends: the peer's shutdown of
	// its writing side (the reader's end of stream, and the writer's own
	// news), then its close (a hangup on AF_UNIX; nothing new on TCP,
	// whose FIN went with the shutdown).
	{mux.EdgeTriggered, script{"edge: end of stream, then close", []string{"tcp", "unix"}, "conn", `
		wait
		shutdown b SHUT_WR
		wait
		wait
		read a
		wait
		close b
		wait
		wait`}},
	// A reset is an edge: the peer closed with data unread.
	{mux.EdgeTriggered, script{"edge: a reset", []string{"tcp", "unix"}, "conn", `
		wait
		write a req
		wait
		close b
		wait
		wait
		read a
		wait`}},
	// A connection completing is an edge of its socket, and each new
	// connection one of the listener, even with one already waiting.
	{mux.EdgeTriggered, script{"edge: connections", []string{"tcp"}, "listener", `
		wait
		dial a
		wait
		dial c
		wait
		accept b
		wait
		accept d
		wait`}},
	// Each write to a pipe is an edge of its reader (since Linux 5.14);
	// reading from a pipe that was not full tells the writer nothing;
	// the writer's close is a hangup of the reader.
	{mux.EdgeTriggered, script{"edge: a pipe", []string{"pipe"}, "pipe", `
		wait
		write w ab
		wait
		write w c
		wait
		read r 1
		wait
		read r
		wait
		close w
		wait
		wait`}},
	// The reader's close is an error of the pipe's writer.
	{mux.EdgeTriggered, script{"edge: a pipe's reader closes", []string{"pipe"}, "pipe", `
		wait
		close r
		wait
		wait
		write w x
		wait`}},
	// One-shot: one report, then nothing — data, a hangup — until Modify
	// re-arms; Modify reports at once what holds.
	{mux.OneShot, script{"one-shot", []string{"tcp", "unix"}, "conn", `
		wait
		wait
		write b x
		wait
		rearm a
		wait
		wait
		write b y
		wait
		close b
		wait
		rearm a
		wait
		wait`}},
	// Both: as one-shot, each re-arm an edge if a condition holds.
	{mux.EdgeTriggered | mux.OneShot, script{"edge and one-shot", []string{"tcp", "unix"}, "conn", `
		wait
		write b x
		wait
		rearm a
		wait
		read a
		rearm a
		wait
		write b y
		wait
		wait`}},
}

func TestFidelityModes(t *testing.T) {
	for _, s := range modeScripts {
		for _, kind := range s.kinds {
			t.Run(kind+"/"+s.name, func(t *testing.T) {
				onLinux := run(t, newReal(t, s.modes), kind, s.script)
				fake := run(t, newFake(s.modes), kind, s.script)
				steps := stepsOf(s.steps)
				for i := range steps {
					if fake[i] != onLinux[i] {
						t.Errorf("step %d, %s: fake %s; Linux %s", i+1, steps[i], fake[i], onLinux[i])
					}
				}
				if testing.Verbose() {
					for i := range steps {
						t.Logf("%-22s Linux %s", steps[i], onLinux[i])
					}
				}
			})
		}
	}
}
