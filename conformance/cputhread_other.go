//go:build aix || netbsd

package conformance

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// threadCPU returns an error: golang.org/x/sys/unix has no per-thread CPU
// clock for this system, so the checks that need one skip.
func threadCPU() (time.Duration, error) {
	return 0, fmt.Errorf("no per-thread CPU clock on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
