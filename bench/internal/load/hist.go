package load

import (
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: 1<<subBits buckets per power
// of two, so a quantile is off by at most 1/(1<<subBits) (1.6%).
const subBits = 6

// hist is a histogram of durations in log-linear buckets: exact below
// 1<<subBits nanoseconds, then 1<<subBits buckets per power of two. It
// records without allocating.
type hist struct {
	counts [(64 - subBits + 1) << subBits]uint64
	n      uint64
}

// bucket returns the bucket of v nanoseconds.
func bucket(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // v>>shift has subBits+1 bits
	return (shift+1)<<subBits | int(v>>shift)&(1<<subBits-1)
}

// bounds returns the smallest value of bucket i and the bucket's width.
func bounds(i int) (lo, width uint64) {
	if i < 1<<subBits {
		return uint64(i), 1
	}
	shift := i>>subBits - 1
	return (1<<subBits | uint64(i)&(1<<subBits-1)) << shift, 1 << shift
}

func (h *hist) record(d time.Duration) {
	h.counts[bucket(uint64(max(d, 0)))]++
	h.n++
}

// quantile returns the duration below which a fraction q of the recorded
// ones lie: the middle of the bucket that holds it.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			lo, w := bounds(i)
			return time.Duration(lo + w/2)
		}
	}
	return 0 // not reached: the counts add up to n
}
