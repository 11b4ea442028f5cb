package load

import (
	"math"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	// Every value falls in the bucket whose bounds hold it, and buckets
	// follow each other without gaps.
	next := uint64(0)
	for i := range len(hist{}.counts) {
		lo, w := bounds(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d (the end of bucket %d)", i, lo, next, i-1)
		}
		for _, v := range []uint64{lo, lo + w/2, lo + w - 1} {
			if b := bucket(v); b != i {
				t.Fatalf("value %d is in bucket %d, want %d [%d, %d)", v, b, i, lo, lo+w)
			}
		}
		if lo+w-1 == math.MaxUint64 {
			return
		}
		next = lo + w
	}
	t.Fatalf("the buckets end at %d, before the largest value", next)
}

func TestQuantile(t *testing.T) {
	var h hist
	if got := h.quantile(0.5); got != 0 {
		t.Errorf("median of nothing = %v, want 0", got)
	}
	// 1µs, 2µs, … 10000µs.
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5000 * time.Microsecond}, {0.99, 9900 * time.Microsecond}, {0, time.Microsecond}, {1, 10000 * time.Microsecond}} {
		got := h.quantile(c.q)
		if e := math.Abs(float64(got-c.want)) / float64(c.want); e > 1.0/(1<<subBits) {
			t.Errorf("quantile(%v) = %v, want %v within %.1f%%", c.q, got, c.want, 100.0/(1<<subBits))
		}
	}
}
