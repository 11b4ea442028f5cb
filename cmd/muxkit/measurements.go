package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/muxkit/muxkit/internal/measure"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// budget says how much to measure.
type budget struct {
	name     string
	ns       []int         // numbers of idle descriptors for Wait
	rounds   int           // rounds of measure.Compare
	chunk    time.Duration // time of one chunk of measure.Compare
	timeouts []timeoutRun  // Wait timeouts to sample
}

// timeoutRun is one timeout and how many Waits of it to sample.
type timeoutRun struct {
	d       time.Duration
	samples int
}

var (
	// quick is the default: about 15 seconds on a 2-core machine.
	quick = budget{
		name:   "quick",
		ns:     []int{1, 10, 100, 1000, 10000},
		rounds: 15,
		chunk:  2 * time.Millisecond,
		timeouts: []timeoutRun{
			{100 * time.Microsecond, 500},
			{time.Millisecond, 200},
			{10 * time.Millisecond, 50},
		},
	}
	// long is -long: about five times as many samples.
	long = budget{
		name:   "long",
		ns:     []int{1, 10, 100, 1000, 10000},
		rounds: 61,
		chunk:  5 * time.Millisecond,
		timeouts: []timeoutRun{
			{100 * time.Microsecond, 3000},
			{time.Millisecond, 1000},
			{10 * time.Millisecond, 200},
		},
	}
)

// cost is one comparison: the median time per operation of the backend
// (and of the raw loop), or why it was not measured.
type cost struct {
	res measure.Result
	na  string // why not measured ("" if measured)
	err error  // the measurement failed
}

// measured is what the report measured of one backend.
type measured struct {
	name     string
	wait     []cost          // one per budget.ns
	pingPong cost            // na for the fake
	timeouts []measure.Stats // one per budget.timeouts; nil for the fake
}

// failed returns the first measurement error, or nil.
func (m *measured) failed() error {
	for _, c := range append(m.wait, m.pingPong) {
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// compare prepares a pair with open and compares its sides.
func compare(bud budget, open func() (*measure.Pair, error)) cost {
	p, err := open()
	switch {
	case errors.Is(err, mux.ErrFDLimit):
		return cost{na: "beyond FD_SETSIZE"}
	case errors.Is(err, measure.ErrResources):
		return cost{na: "too few fds"}
	case err != nil:
		return cost{err: err}
	}
	defer p.Close()
	res, err := measure.Compare(p, bud.rounds, bud.chunk)
	if err != nil {
		return cost{err: err}
	}
	return cost{res: res}
}

func osBackend(name string) measure.Backend {
	return measure.Backend{Name: name, Open: func() (mux.Multiplexer, error) { return backend.Open(name) }}
}

// measureBackend measures the named backend, or the fake, calling step
// before each measurement.
func measureBackend(name string, bud budget, step func(string)) (measured, error) {
	m := measured{name: name}
	fake := name == fakeName
	for _, n := range bud.ns {
		step(fmt.Sprintf("%s: Wait, N=%d", name, n))
		if fake {
			m.wait = append(m.wait, compare(bud, func() (*measure.Pair, error) { return measure.FakeWait(n) }))
		} else {
			m.wait = append(m.wait, compare(bud, func() (*measure.Pair, error) { return measure.Wait(osBackend(name), n) }))
		}
	}
	if fake {
		m.pingPong = cost{na: "—"}
		return m, m.failed()
	}
	step(name + ": ping-pong")
	m.pingPong = compare(bud, func() (*measure.Pair, error) { return measure.PingPong(osBackend(name)) })
	ts, err := sampleTimeouts(osBackend(name), bud, name, step)
	if err != nil {
		return m, err
	}
	m.timeouts = ts
	return m, m.failed()
}

// sampleTimeouts samples the backend's Wait at each timeout of the budget.
func sampleTimeouts(b measure.Backend, bud budget, label string, step func(string)) ([]measure.Stats, error) {
	var out []measure.Stats
	for _, t := range bud.timeouts {
		step(fmt.Sprintf("%s: Wait(%v) ×%d", label, t.d, t.samples))
		p, err := measure.Timeout(b, t.d)
		if err != nil {
			return nil, err
		}
		err = p.Mux(t.samples)
		_, ds := p.Times()
		p.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, measure.Summarize(ds))
	}
	return out, nil
}

// reference is a row of the timeout table that is not a backend.
type reference struct {
	label string
	stats []measure.Stats
}

// measureReferences samples what other loops get for the same timeouts:
// a poll loop that rounds up to milliseconds, and time.Sleep.
func measureReferences(bud budget, step func(string)) ([]reference, error) {
	ms, err := sampleTimeouts(measure.Millis, bud, "poll with a millisecond timeout", step)
	if err != nil {
		return nil, err
	}
	var sleep []measure.Stats
	for _, t := range bud.timeouts {
		step(fmt.Sprintf("time.Sleep(%v) ×%d", t.d, t.samples))
		sleep = append(sleep, measure.Summarize(measure.Sleep(t.d, t.samples)))
	}
	return []reference{
		{"poll(2), timeout in ms (reference)", ms},
		{"time.Sleep (reference)", sleep},
	}, nil
}

// growth returns how much Wait's cost grew from N=10 (or the smallest N
// measured, if none is larger than 10) to the largest N measured, and the
// two Ns; ok is false if fewer than two were measured.
func growth(bud budget, m measured) (factor float64, from, to int, ok bool) {
	var idx []int
	for i, c := range m.wait {
		if c.na == "" && c.err == nil && c.res.Mux > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) < 2 {
		return 0, 0, 0, false
	}
	first, last := idx[0], idx[len(idx)-1]
	for _, i := range idx[:len(idx)-1] {
		if bud.ns[i] == 10 {
			first = i
		}
	}
	f := float64(m.wait[last].res.Mux) / float64(m.wait[first].res.Mux)
	return f, bud.ns[first], bud.ns[last], true
}
