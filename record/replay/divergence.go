package replay

import (
	"fmt"
	"strings"

	"github.com/muxkit/muxkit/record"
)

// A Divergence is where a replay stopped: the first call at which the
// code under test no longer did what was recorded, or at which the fake
// did not answer as the recorded kernel had.
type Divergence struct {
	// Seq is the recorded call's Seq, or one more than the last one when
	// the code went on past the end of the recording.
	Seq uint64

	// Recorded is the recorded call; nil when the code went on past the
	// end of the recording.
	Recorded *record.Call

	// Asked is the call the code under test made in its place (its
	// arguments only); nil when the code stopped before making it.
	Asked *record.Call

	// Fake, for a call made as recorded, is the fake's answer, which
	// differs from the recorded one: a limit of the replay's model of
	// the world, or of the fake, rather than a change of the code.
	Fake *record.Call

	// Before holds the recorded calls just before (up to three), which
	// the code made alike.
	Before []record.Call
}

// Error names the call at which the replay stopped, what the recording
// has there and what the code asked or the fake answered instead.
func (d *Divergence) Error() string {
	var b strings.Builder
	switch {
	case d.Recorded == nil:
		fmt.Fprintf(&b, "replay: the code under test went on past the end of the recording, after call %d:\n", d.Seq-1)
	case d.Fake != nil:
		fmt.Fprintf(&b, "replay: call %d was made as recorded, but the fake answered otherwise (a limit of the replay, not a change of the code):\n", d.Seq)
	case d.Asked == nil:
		fmt.Fprintf(&b, "replay: the code under test stopped before call %d of the recording:\n", d.Seq)
	default:
		fmt.Fprintf(&b, "replay: the code under test parted from the recording at call %d:\n", d.Seq)
	}
	for _, c := range d.Before {
		fmt.Fprintf(&b, "\tbefore:   %v\n", c)
	}
	if d.Recorded != nil {
		fmt.Fprintf(&b, "\trecorded: %v\n", *d.Recorded)
	}
	switch {
	case d.Fake != nil:
		fmt.Fprintf(&b, "\tfake:     %v\n", *d.Fake)
	case d.Asked != nil:
		fmt.Fprintf(&b, "\tasked:    %s\n", d.Asked.Asked())
	default:
		b.WriteString("\tasked:    nothing more\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
