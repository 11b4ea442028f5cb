//go:build unix

package backend_test

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/muxkit/muxkit/conformance"
	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
)

// builtin are the backends of this module on this system, best first.
func builtin() []string {
	if runtime.GOOS == "linux" {
		return []string{"epoll", "poll", "select"}
	}
	return []string{"poll", "select"}
}

func TestNames(t *testing.T) {
	// The backends this file registers come after the built-in ones, in
	// the order they registered.
	want := append(builtin(), "test-plain", "test-described")
	if got := backend.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v; want %v on %s", got, want, runtime.GOOS)
	}
	// The result is a copy.
	backend.Names()[0] = "changed"
	if got := backend.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() after changing a returned slice = %v; want %v", got, want)
	}
}

func TestOpenEach(t *testing.T) {
	for _, name := range builtin() {
		m, err := backend.Open(name)
		if err != nil {
			t.Errorf("Open(%q) = %v; want a Multiplexer", name, err)
			continue
		}
		if got := mux.Describe(m).Name; got != name {
			t.Errorf("Open(%q) returned a backend describing itself as %q; want %q", name, got, name)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close of %q = %v", name, err)
		}
		in, err := backend.Describe(name)
		if err != nil || in.Name != name {
			t.Errorf("Describe(%q) = %v, %v; want Info named %q", name, in, err, name)
		}
	}
}

func TestOpenUnknown(t *testing.T) {
	for _, name := range []string{"kqueue", "", "POLL", "epoll "} {
		m, err := backend.Open(name)
		if m != nil || !errors.Is(err, backend.ErrUnknown) {
			t.Errorf("Open(%q) = %v, %v; want nil and an error wrapping ErrUnknown", name, m, err)
			continue
		}
		for _, valid := range backend.Names() {
			if !strings.Contains(err.Error(), valid) {
				t.Errorf("Open(%q) error %q does not list valid name %q; want every valid name listed", name, err, valid)
			}
		}
		if _, err := backend.Describe(name); !errors.Is(err, backend.ErrUnknown) {
			t.Errorf("Describe(%q) = %v; want an error wrapping ErrUnknown", name, err)
		}
	}
	if runtime.GOOS != "linux" {
		_, err := backend.Open("epoll")
		if !errors.Is(err, backend.ErrUnknown) || !strings.Contains(err.Error(), runtime.GOOS) {
			t.Errorf("Open(\"epoll\") on %s = %v; want ErrUnknown naming this system", runtime.GOOS, err)
		}
	}
}

func TestDefault(t *testing.T) {
	t.Setenv(backend.EnvVar, "")
	want := "poll"
	if runtime.GOOS == "linux" {
		want = "epoll"
	}
	if got := backend.Default(); got != want {
		t.Fatalf("Default() with %s unset = %q; want %q", backend.EnvVar, got, want)
	}
	m, err := backend.OpenDefault()
	if err != nil {
		t.Fatalf("OpenDefault() = %v", err)
	}
	if got := mux.Describe(m).Name; got != want {
		t.Errorf("OpenDefault() opened %q; want %q", got, want)
	}
	m.Close()
}

func TestEnvOverride(t *testing.T) {
	for _, name := range builtin() {
		t.Setenv(backend.EnvVar, name)
		if got := backend.Default(); got != name {
			t.Errorf("Default() with %s=%s = %q; want %q", backend.EnvVar, name, got, name)
		}
		m, err := backend.OpenDefault()
		if err != nil {
			t.Errorf("OpenDefault() with %s=%s = %v", backend.EnvVar, name, err)
			continue
		}
		if got := mux.Describe(m).Name; got != name {
			t.Errorf("OpenDefault() with %s=%s opened %q", backend.EnvVar, name, got)
		}
		m.Close()
	}
}

func TestEnvInvalid(t *testing.T) {
	t.Setenv(backend.EnvVar, "bogus")
	if got := backend.Default(); got != "bogus" {
		t.Errorf("Default() with %s=bogus = %q; want \"bogus\", not silently the platform default", backend.EnvVar, got)
	}
	m, err := backend.OpenDefault()
	if m != nil || !errors.Is(err, backend.ErrUnknown) {
		t.Fatalf("OpenDefault() with %s=bogus = %v, %v; want an error wrapping ErrUnknown", backend.EnvVar, m, err)
	}
	for _, s := range append([]string{backend.EnvVar, "bogus"}, backend.Names()...) {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("OpenDefault() error %q does not mention %q; want the variable, its value and the valid names", err, s)
		}
	}
}

// TestConformanceDefault runs the conformance suite on the default
// backend, so that MUXKIT_BACKEND=name go test ./mux/backend/ checks each.
func TestConformanceDefault(t *testing.T) {
	m, err := backend.OpenDefault()
	if err != nil {
		t.Fatalf("OpenDefault: %v", err)
	}
	m.Close()
	conformance.Run(t, conformance.OS(backend.OpenDefault))
}
