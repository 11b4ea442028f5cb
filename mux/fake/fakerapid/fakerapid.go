// Package fakerapid draws the choices of a [fake.Kernel] from a
// pgregory.net/rapid property test, so that rapid explores fault
// schedules and, when one makes the test fail, shrinks it to a minimal
// one:
//
//	rapid.Check(t, func(t *rapid.T) {
//		k := fake.New(fake.Config{
//			Choices: fakerapid.Choices(t),
//			Faults:  fake.Faults{ShortWrite: 0.3, Again: 0.2, ShortRead: 0.3},
//		})
//		… run the loop under test on k …
//		if … it went wrong … {
//			t.Fatalf("…\nfaults:\n%s", k.Schedule())
//		}
//	})
//
// Every choice the kernel makes — whether a fault fires at an
// opportunity, how short a short write is, the order of a shuffled batch,
// a delivery's jitter — is a draw, and rapid shrinks draws toward zero: a
// fault toward not firing, a size toward one byte, a delay toward none. A
// failure is then reported with the smallest schedule rapid found, saved
// under testdata/rapid and replayed first on later runs, as rapid does for
// every property.
//
// It is a package of its own so that programs that do not use rapid do
// not link it.
package fakerapid

import (
	"pgregory.net/rapid"

	"github.com/muxkit/muxkit/mux/fake"
)

// Choices returns a [fake.Chooser] that draws every answer from t. A fault
// fires with its probability, exactly; other answers lean toward small
// numbers, as rapid's integers do. Use it from t's goroutine only, and
// with one Kernel: its draws are t's.
func Choices(t *rapid.T) fake.Chooser {
	// rapid logs every value drawn from t when it reports a failure; a
	// run's hundreds of coin flips would bury the schedule. Draws made on
	// the *rapid.T a Custom generator is given are not logged, and come
	// from the same stream, so they shrink alike: draw from that one.
	// (rapid wants a Custom generator to draw something: one bit.)
	return rapid.Custom(func(t *rapid.T) source {
		bit.Draw(t, "")
		return source{t}
	}).Draw(t, "fake kernel")
}

// source is a Chooser drawing from t.
type source struct{ t *rapid.T }

// GoString is what rapid logs as the value drawn by Choices.
func (source) GoString() string { return "fakerapid.Choices" }

var bit = rapid.Bool()

func (s source) Choose(c fake.Choice) uint64 {
	if c.Kind != fake.ChooseFires {
		return rapid.Uint64Range(0, c.N-1).Draw(s.t, "")
	}
	if s.fires(c.P) {
		return 1
	}
	return 0
}

// fires reports whether something of probability p happens: it draws a
// fraction u bit by bit, from the top, until u is known to be above or
// below 1-p, and fires when u ≥ 1-p — with probability p, in two draws on
// average. Each bit is a rapid.Bool, which shrinks toward false: toward u
// = 0, a fault that does not fire.
func (s source) fires(p float64) bool {
	threshold := uint64((1 - p) * (1 << 53))
	for i := 52; i >= 0; i-- {
		u, t := bit.Draw(s.t, ""), threshold>>i&1 == 1
		if u != t {
			return u
		}
	}
	return true // u == 1-p
}
