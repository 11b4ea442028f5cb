//go:build unix

package measure_test

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/measure"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// openFDs returns the number of open descriptors, or -1 where it cannot
// tell (no /proc/self/fd).
func openFDs(t *testing.T) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// noLeak fails the test if, at its end, more descriptors are open than
// when noLeak was called.
func noLeak(t *testing.T) {
	t.Helper()
	before := openFDs(t)
	t.Cleanup(func() {
		if after := openFDs(t); after > before && before >= 0 {
			t.Errorf("%d descriptors open after the test, %d before: want every one closed", after, before)
		}
	})
}

// use runs both sides of a scenario n times and closes it.
func use(t *testing.T, name string, p *measure.Scenario, err error, n int) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: setting up: %v", name, err)
		return
	}
	if err := p.Raw(n); err != nil {
		t.Errorf("%s: raw side: %v; want %d operations without error", name, err, n)
	}
	if err := p.Mux(n); err != nil {
		t.Errorf("%s: mux side: %v; want %d operations without error", name, err, n)
	}
	if err := p.Close(); err != nil {
		t.Errorf("%s: Close = %v; want nil", name, err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("%s: second Close = %v; want nil", name, err)
	}
}

func TestScenarios(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			noLeak(t)
			p, err := measure.Wait(b, 20)
			use(t, "Wait", p, err, 5)
			p, err = measure.Batch(b, 30)
			use(t, "Batch", p, err, 3)
			if p != nil && p.PerOp != 30 {
				t.Errorf("Batch(30).PerOp = %d; want 30", p.PerOp)
			}
			p, err = measure.PingPong(b)
			use(t, "PingPong", p, err, 5)
			p, err = measure.AddRemove(b)
			use(t, "AddRemove", p, err, 5)
			p, err = measure.Modify(b)
			use(t, "Modify", p, err, 5)
		})
	}
}

func TestFakeScenarios(t *testing.T) {
	noLeak(t)
	p, err := measure.FakeWait(20)
	use(t, "FakeWait", p, err, 5)
	// Enough operations to run a socket dry and fill one up, so that the
	// refill and drain paths run too.
	p, err = measure.FakeRead()
	use(t, "FakeRead", p, err, 10000)
	p, err = measure.FakeWrite()
	use(t, "FakeWrite", p, err, 10000)
}

// TestNoRaw: a backend registered without a raw loop is measured alone,
// and Compare gives its time with no ratio.
func TestNoRaw(t *testing.T) {
	noLeak(t)
	b := backends()[0]
	b.Raw = nil
	p, err := measure.Wait(b, 3)
	if err != nil {
		t.Fatalf("Wait of %s without a raw loop = %v; want the Mux side alone", b.Name, err)
	}
	defer p.Close()
	if p.Raw != nil || p.Mux == nil {
		t.Fatalf("Wait of %s without a raw loop: Raw set %v, Mux set %v; want Mux alone", b.Name, p.Raw != nil, p.Mux != nil)
	}
	res, err := measure.Compare(p, 3, 20*time.Microsecond)
	if err != nil || res.Mux <= 0 || res.Raw != 0 || res.Ratio != 0 || res.Rounds != 3 {
		t.Errorf("Compare of a scenario without a raw side = %+v, %v; want a Mux time, no Raw time and no ratio", res, err)
	}
	tp, err := measure.Timeout(b, 20*time.Microsecond)
	if err != nil {
		t.Fatalf("Timeout of %s without a raw loop = %v", b.Name, err)
	}
	defer tp.Close()
	if err := tp.Mux(2); err != nil {
		t.Fatalf("Timeout.Mux(2) = %v", err)
	}
	if raw, mx := tp.Times(); raw != nil || len(mx) != 2 {
		t.Errorf("Times() without a raw loop = %d raw, %d mux samples; want none and 2", len(raw), len(mx))
	}
}

func TestOpenFails(t *testing.T) {
	noLeak(t)
	b := backend.Backend{Name: "kqueue9", Open: func() (mux.Multiplexer, error) { return nil, errors.ErrUnsupported }}
	if p, err := measure.Wait(b, 3); p != nil || !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "kqueue9") {
		t.Errorf("Wait(kqueue9) = %v, %v; want nil and the error of its Open, naming it", p, err)
	}
}

func TestSelectLimit(t *testing.T) {
	noLeak(t)
	for _, b := range backends() {
		if b.Name != "select" {
			continue
		}
		p, err := measure.Wait(b, 1100)
		if p != nil || !errors.Is(err, mux.ErrFDLimit) {
			t.Errorf("Wait(select, 1100) = %v, %v; want nil and an error wrapping mux.ErrFDLimit", p, err)
		}
	}
}

func TestCompare(t *testing.T) {
	noLeak(t)
	b := backends()[0]
	p, err := measure.Wait(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	res, err := measure.Compare(p, 3, 20*time.Microsecond)
	if err != nil {
		t.Fatalf("Compare = %v; want no error", err)
	}
	if res.Raw <= 0 || res.Mux <= 0 || res.Ratio <= 0 || res.Rounds != 3 || res.Ops < 1 {
		t.Errorf("Compare = %+v; want positive times and ratio, 3 rounds, at least one operation", res)
	}
}

func TestCompareFails(t *testing.T) {
	boom := errors.New("boom")
	ok := func(int) error { return nil }
	bad := func(int) error { return boom }
	for _, p := range []*measure.Scenario{{Raw: ok, Mux: bad}, {Raw: bad, Mux: ok}} {
		if _, err := measure.Compare(p, 3, time.Microsecond); !errors.Is(err, boom) {
			t.Errorf("Compare of a scenario with a failing side = %v; want the side's error", err)
		}
	}
}

func TestTimeoutTimes(t *testing.T) {
	noLeak(t)
	for _, b := range append(backends(), measure.PollMillis) {
		p, err := measure.Timeout(b, 20*time.Microsecond)
		if err != nil {
			t.Fatalf("Timeout(%s): %v", b.Name, err)
		}
		if err := p.Mux(3); err != nil {
			t.Errorf("Timeout(%s).Mux(3) = %v; want no error", b.Name, err)
		}
		if err := p.Raw(2); err != nil {
			t.Errorf("Timeout(%s).Raw(2) = %v; want no error", b.Name, err)
		}
		raw, mx := p.Times()
		if len(raw) != 2 || len(mx) != 3 {
			t.Errorf("Timeout(%s).Times() = %d raw, %d mux samples; want 2 and 3", b.Name, len(raw), len(mx))
		}
		if raw, mx := p.Times(); len(raw)+len(mx) != 0 {
			t.Errorf("second Times() = %d, %d samples; want none: Times forgets what it returned", len(raw), len(mx))
		}
		p.Close()
	}
	if p, _ := measure.Wait(backends()[0], 1); p != nil {
		if raw, mx := p.Times(); raw != nil || mx != nil {
			t.Errorf("Wait scenario's Times() = %v, %v; want nil, nil", raw, mx)
		}
		p.Close()
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 200; i >= 1; i-- { // 1..200, given in reverse
		ds = append(ds, time.Duration(i))
	}
	got := measure.Summarize(ds)
	want := measure.Stats{N: 200, Min: 1, Median: 100, P99: 198, Max: 200}
	if got != want {
		t.Errorf("Summarize(1..200) = %+v; want %+v (nearest-rank p99, median of the middle two rounded down)", got, want)
	}
	if got := measure.Summarize([]time.Duration{7}); got != (measure.Stats{N: 1, Min: 7, Median: 7, P99: 7, Max: 7}) {
		t.Errorf("Summarize([7]) = %+v; want every statistic 7", got)
	}
	if got := measure.Summarize(nil); got != (measure.Stats{}) {
		t.Errorf("Summarize(nil) = %+v; want the zero Stats", got)
	}
}

func TestSleep(t *testing.T) {
	if got := measure.Sleep(time.Microsecond, 4); len(got) != 4 {
		t.Errorf("Sleep(1µs, 4) returned %d durations; want 4", len(got))
	}
}
