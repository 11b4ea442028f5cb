package fake

import (
	"math/rand/v2"
	"strconv"
)

// A Chooser makes every choice a Kernel makes: whether a fault fires at
// an opportunity, how short a short read or write is, the order of a
// shuffled batch, the jitter of a delivery, and the like. By default it is
// Seeded(Config.Seed); Config.Choices puts another in its place, such as
// one that draws from a property-based testing library, so that the
// library can shrink a failing run's choices to a minimal schedule of
// faults (package mux/fake/fakerapid does it for pgregory.net/rapid), or
// one that replays choices recorded earlier and lets a seeded Chooser take
// over from a given step.
//
// The kernel calls Choose with its lock held, from the goroutine making
// the call the choice is for; Choose must not call the kernel.
type Chooser interface {
	// Choose returns the answer to c, a number below c.N. An answer of
	// c.N or more counts as c.N-1.
	Choose(c Choice) uint64
}

// A Choice is one question a Kernel asks its Chooser.
type Choice struct {
	Kind  ChoiceKind
	Fault string  // the fault the choice is for ("short-write", …), or "" (the order of a batch, the jitter of a write)
	FD    int     // the descriptor it concerns, or -1
	Seq   uint64  // the Seq the trace's next record will have: the choice is made during that call
	N     uint64  // the answer is a number below N; N is at least 2
	P     float64 // for ChooseFires: the probability that the fault fires
}

// ChoiceKind says what a Choice decides.
type ChoiceKind uint8

const (
	// ChooseFires: whether the fault fires at this opportunity: 1 if it
	// does, 0 if not. N is 2 and P the fault's probability (above 0,
	// below 1: a fault of probability 1 fires without asking).
	ChooseFires ChoiceKind = iota + 1

	// ChooseSize: how much a short read, a short write or a truncated
	// batch keeps: the answer plus one bytes, or events, of N+1.
	ChooseSize

	// ChooseWhich: which one of N: the condition a spurious report names
	// (0 Readable, 1 Writable), the event of a batch whose descriptor a
	// Reuse takes (the answer plus one), the errno of an AddError (0
	// ENOSPC, 1 ENOMEM).
	ChooseWhich

	// ChooseOrder: a step of the shuffle of a batch (Config.Shuffle): the
	// event that goes to position N-1, among the first N.
	ChooseOrder

	// ChooseDelay: a duration in nanoseconds, below N: the jitter added to
	// a write's delivery, or how far an early wakeup moves the clock.
	ChooseDelay
)

var choiceKindNames = [...]string{
	ChooseFires: "fires",
	ChooseSize:  "size",
	ChooseWhich: "which",
	ChooseOrder: "order",
	ChooseDelay: "delay",
}

func (c ChoiceKind) String() string {
	if int(c) < len(choiceKindNames) && choiceKindNames[c] != "" {
		return choiceKindNames[c]
	}
	return "ChoiceKind(" + strconv.Itoa(int(c)) + ")"
}

// Seeded returns the Chooser a Kernel uses by default, a PCG generator
// seeded with seed: a fault fires with its probability, and every other
// answer is drawn uniformly. Two Seeded Choosers of one seed answer the
// same questions alike, so a Seeded Chooser made at any step can take over
// a run from there.
func Seeded(seed uint64) Chooser {
	return seeded{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

type seeded struct{ rng *rand.Rand }

func (s seeded) Choose(c Choice) uint64 {
	if c.Kind == ChooseFires {
		if s.rng.Float64() < c.P {
			return 1
		}
		return 0
	}
	return s.rng.Uint64N(c.N)
}

// choose asks the kernel's Chooser c. k.mu is held.
func (k *Kernel) choose(c Choice) uint64 {
	c.Seq = k.trace.next
	return min(k.chooser.Choose(c), c.N-1)
}

// chooseN asks for a number below n of the kind, for the fault, about
// fd; with n below 2 there is nothing to ask, and the answer is 0. k.mu
// is held.
func (k *Kernel) chooseN(kind ChoiceKind, fault faultKind, fd int, n int64) int64 {
	if n < 2 {
		return 0
	}
	var name string
	if fault != 0 {
		name = fault.String()
	}
	return int64(k.choose(Choice{Kind: kind, Fault: name, FD: fd, N: uint64(n)}))
}
