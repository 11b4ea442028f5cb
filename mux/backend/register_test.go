//go:build unix

package backend_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/backend"
	"github.com/muxkit/muxkit/mux/poll"
)

// plain is a backend of another package whose Multiplexers do not
// describe themselves: poll, with only the methods of mux.Multiplexer.
type plain struct{ mux.Multiplexer }

// described is the Info test-described registers with.
var described = mux.Info{Name: "test-described", Reports: mux.Readable | mux.Writable | mux.Hangup, Resolution: time.Microsecond}

// errNeverOpened is what test-described's Open returns: Describe must
// not need it.
var errNeverOpened = errors.New("test-described is never opened")

// Registered as a package of another module would register its backend.
func init() {
	backend.Register(backend.Backend{Name: "test-plain", Open: func() (mux.Multiplexer, error) {
		m, err := poll.New()
		if err != nil {
			return nil, err
		}
		return plain{m}, nil
	}})
	backend.Register(backend.Backend{Name: "test-described", Info: described,
		Open: func() (mux.Multiplexer, error) { return nil, errNeverOpened }})
}

func TestRegisteredOpen(t *testing.T) {
	m, err := backend.Open("test-plain")
	if err != nil {
		t.Fatalf("Open(\"test-plain\") = %v; want the registered backend", err)
	}
	if _, ok := m.(plain); !ok {
		t.Errorf("Open(\"test-plain\") = %T; want the registered Open's plain", m)
	}
	m.Close()

	t.Setenv(backend.EnvVar, "test-plain")
	m, err = backend.OpenDefault()
	if err != nil {
		t.Fatalf("OpenDefault() with %s=test-plain = %v; want the registered backend", backend.EnvVar, err)
	}
	if _, ok := m.(plain); !ok {
		t.Errorf("OpenDefault() with %s=test-plain = %T; want plain", backend.EnvVar, m)
	}
	m.Close()

	if _, err := backend.Open("test-described"); !errors.Is(err, errNeverOpened) {
		t.Errorf("Open(\"test-described\") = %v; want the error of its Open, unwrapped", err)
	}
}

func TestRegisteredDescribe(t *testing.T) {
	in, err := backend.Describe("test-plain")
	want := mux.Info{Name: "test-plain", Reports: mux.Readable | mux.Writable, Resolution: time.Millisecond}
	if err != nil || in != want {
		t.Errorf("Describe(\"test-plain\") = %+v, %v; want %+v: what mux.Describe says of a Multiplexer that does not describe itself, under its registered name", in, err, want)
	}
	in, err = backend.Describe("test-described")
	if err != nil || in != described {
		t.Errorf("Describe(\"test-described\") = %+v, %v; want the Info it registered with, %+v, without opening one", in, err, described)
	}
}

func TestLookup(t *testing.T) {
	b, err := backend.Lookup("test-described")
	if err != nil || b.Name != "test-described" || b.Info != described || b.Raw != nil {
		t.Errorf("Lookup(\"test-described\") = %+v, %v; want what it registered", b, err)
	}
	for _, name := range builtin() {
		b, err := backend.Lookup(name)
		if err != nil || b.Name != name || b.Open == nil || b.Raw == nil {
			t.Errorf("Lookup(%q) = %+v, %v; want the built-in backend with its raw loop", name, b, err)
			continue
		}
		raw, err := b.Raw()
		if err != nil {
			t.Errorf("the raw loop of %s: %v", name, err)
			continue
		}
		if err := raw.Close(); err != nil {
			t.Errorf("Close of the raw loop of %s = %v", name, err)
		}
	}
	if _, err := backend.Lookup("nope"); !errors.Is(err, backend.ErrUnknown) || !strings.Contains(err.Error(), "test-plain") {
		t.Errorf("Lookup(\"nope\") = %v; want ErrUnknown listing every registered name", err)
	}
}

// registerPanic returns what Register(b) panicked with, or nil.
func registerPanic(b backend.Backend) (msg any) {
	defer func() { msg = recover() }()
	backend.Register(b)
	return nil
}

func TestRegisterMistakes(t *testing.T) {
	open := func() (mux.Multiplexer, error) { return poll.New() }
	for _, tc := range []struct {
		b    backend.Backend
		want string
	}{
		{backend.Backend{Name: "poll", Open: open}, `"poll" is registered twice`},
		{backend.Backend{Name: "test-plain", Open: open}, `"test-plain" is registered twice`},
		{backend.Backend{Open: open}, "empty name"},
		{backend.Backend{Name: "test-nil"}, `"test-nil": Open is nil`},
		{backend.Backend{Name: "Epoll", Open: open}, `name "Epoll"`},
		{backend.Backend{Name: "my poll", Open: open}, `name "my poll"`},
		{backend.Backend{Name: "test-info", Open: open, Info: mux.Info{Name: "other"}}, `Info.Name is "other"`},
	} {
		got := fmt.Sprint(registerPanic(tc.b))
		if !strings.HasPrefix(got, "backend: Register: ") || !strings.Contains(got, tc.want) {
			t.Errorf("Register(%+v) panicked with %q; want a panic saying %q", tc.b, got, tc.want)
		}
	}
	if _, err := backend.Lookup("test-info"); err == nil {
		t.Errorf("a refused Register left %q registered", "test-info")
	}
}
