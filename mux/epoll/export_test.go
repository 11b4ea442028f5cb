//go:build linux

package epoll

import "github.com/muxkit/muxkit/internal/osmux"

// NewMillis returns a Mux that waits with epoll_wait's milliseconds even
// where the kernel has epoll_pwait2, so that the suite runs that path too.
func NewMillis() (*Mux, error) {
	m, err := New()
	if err == nil {
		osmux.Millis(&m.core)
	}
	return m, err
}
