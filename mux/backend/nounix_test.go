//go:build !unix

package backend_test

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/muxkit/muxkit/mux/backend"
)

// TestNoBuiltin: where no backend of this module runs, none is
// registered, and OpenDefault says so instead of failing obscurely.
func TestNoBuiltin(t *testing.T) {
	t.Setenv(backend.EnvVar, "")
	if names := backend.Names(); len(names) != 0 {
		t.Errorf("Names() = %v on %s; want none", names, runtime.GOOS)
	}
	if got := backend.Default(); got != "" {
		t.Errorf("Default() = %q on %s; want \"\"", got, runtime.GOOS)
	}
	m, err := backend.OpenDefault()
	if m != nil || !errors.Is(err, backend.ErrUnknown) || !strings.Contains(err.Error(), runtime.GOOS) {
		t.Errorf("OpenDefault() on %s = %v, %v; want an error wrapping ErrUnknown that names the system", runtime.GOOS, m, err)
	}
}
