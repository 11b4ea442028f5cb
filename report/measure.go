//go:build unix

package report

import (
	"errors"
	"fmt"

	"github.com/muxkit/muxkit/measure"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// compare prepares a scenario with open and compares its sides.
func compare(bud Budget, open func() (*measure.Scenario, error)) Cost {
	p, err := open()
	switch {
	case errors.Is(err, mux.ErrFDLimit):
		return Cost{NA: "beyond FD_SETSIZE"}
	case errors.Is(err, measure.ErrResources):
		return Cost{NA: "too few fds"}
	case err != nil:
		return Cost{Err: err}
	}
	defer p.Close()
	res, err := measure.Compare(p, bud.Rounds, bud.Chunk)
	if err != nil {
		return Cost{Err: err}
	}
	return Cost{Comparison: res}
}

// measureRow fills in row's measurements, calling step before each.
func measureRow(row *Row, bud Budget, step func(string)) {
	if row.Virtual {
		for _, n := range bud.Ns {
			step(fmt.Sprintf("%s: Wait, N=%d", row.Name, n))
			row.Wait = append(row.Wait, compare(bud, func() (*measure.Scenario, error) { return measure.FakeWait(n) }))
		}
		step(row.Name + ": Read and Write")
		row.Read = compare(bud, measure.FakeRead)
		row.Write = compare(bud, measure.FakeWrite)
		row.PingPong = Cost{NA: "—"}
		row.Err = firstErr(row)
		return
	}
	b, err := backend.Lookup(row.Name)
	if err != nil {
		row.Err = err
		return
	}
	row.HasRaw = b.Raw != nil
	for _, n := range bud.Ns {
		step(fmt.Sprintf("%s: Wait, N=%d", row.Name, n))
		row.Wait = append(row.Wait, compare(bud, func() (*measure.Scenario, error) { return measure.Wait(b, n) }))
	}
	step(row.Name + ": ping-pong")
	row.PingPong = compare(bud, func() (*measure.Scenario, error) { return measure.PingPong(b) })
	row.Timeouts, err = sampleTimeouts(b, bud, row.Name, step)
	row.Err = errors.Join(firstErr(row), err)
}

// firstErr returns the first error among row's costs, or nil.
func firstErr(row *Row) error {
	for _, c := range append(row.Wait, row.PingPong, row.Read, row.Write) {
		if c.Err != nil {
			return c.Err
		}
	}
	return nil
}

// sampleTimeouts times the backend's Wait at each timeout of the budget.
func sampleTimeouts(b backend.Backend, bud Budget, label string, step func(string)) ([]measure.Stats, error) {
	var out []measure.Stats
	for _, t := range bud.Timeouts {
		step(fmt.Sprintf("%s: Wait(%v) ×%d", label, t.Timeout, t.Waits))
		p, err := measure.Timeout(b, t.Timeout)
		if err != nil {
			return nil, err
		}
		err = p.Mux(t.Waits)
		_, ds := p.Times()
		p.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, measure.Summarize(ds))
	}
	return out, nil
}

// measureReferences times what other loops get for the same timeouts: a
// poll loop that rounds up to milliseconds, and time.Sleep.
func measureReferences(bud Budget, step func(string)) []Reference {
	ms, err := sampleTimeouts(measure.PollMillis, bud, "poll with a millisecond timeout", step)
	var sleep []measure.Stats
	for _, t := range bud.Timeouts {
		step(fmt.Sprintf("time.Sleep(%v) ×%d", t.Timeout, t.Waits))
		sleep = append(sleep, measure.Summarize(measure.Sleep(t.Timeout, t.Waits)))
	}
	return []Reference{
		{"poll(2), timeout in ms (reference)", ms, err},
		{"time.Sleep (reference)", sleep, nil},
	}
}

// growth returns how much Wait's cost grew from N=10 (or the smallest N
// measured, if none is larger than 10) to the largest N measured, and the
// two Ns; ok is false if fewer than two were measured.
func growth(bud Budget, row Row) (factor float64, from, to int, ok bool) {
	var idx []int
	for i, c := range row.Wait {
		if c.measured() {
			idx = append(idx, i)
		}
	}
	if len(idx) < 2 {
		return 0, 0, 0, false
	}
	first, last := idx[0], idx[len(idx)-1]
	for _, i := range idx[:len(idx)-1] {
		if bud.Ns[i] == 10 {
			first = i
		}
	}
	f := float64(row.Wait[last].Mux) / float64(row.Wait[first].Mux)
	return f, bud.Ns[first], bud.Ns[last], true
}

// measured reports whether c holds a time.
func (c Cost) measured() bool { return c.NA == "" && c.Err == nil && c.Mux > 0 }
