package backend

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/muxkit/muxkit/mux"
	"github.com/muxkit/muxkit/mux/poll"
	selectmux "github.com/muxkit/muxkit/mux/select"
)

// EnvVar is the environment variable that overrides Default.
const EnvVar = "MUXKIT_BACKEND"

// ErrUnknown is wrapped by the error for a name that is not a backend
// available on this system.
var ErrUnknown = errors.New("unknown backend")

type entry struct {
	name string
	open func() (mux.Multiplexer, error)
}

// portable are the backends of every Unix system, best first; systems
// with better ones put theirs before (see platform).
var portable = []entry{
	{"poll", func() (mux.Multiplexer, error) { return poll.New() }},
	{"select", func() (mux.Multiplexer, error) { return selectmux.New() }},
}

var available = append(slices.Clone(platform), portable...)

// everywhere names every backend this package knows on some system.
var everywhere = []string{"epoll", "poll", "select"}

// Names returns the names of the backends available on this system, in
// order of preference.
func Names() []string {
	names := make([]string, len(available))
	for i, e := range available {
		names[i] = e.name
	}
	return names
}

// Default returns the name of the backend OpenDefault opens: the value of
// the environment variable EnvVar if it is set and not empty — whether or
// not it names an available backend, so that a mistake in it is reported
// by OpenDefault rather than hidden — and otherwise the first of Names
// (epoll on Linux, poll elsewhere).
func Default() string {
	if v := strings.TrimSpace(os.Getenv(EnvVar)); v != "" {
		return v
	}
	return available[0].name
}

func lookup(name string) (entry, error) {
	for _, e := range available {
		if e.name == name {
			return e, nil
		}
	}
	valid := strings.Join(Names(), ", ")
	if slices.Contains(everywhere, name) {
		return entry{}, fmt.Errorf("backend %q: %w: not available on %s (available: %s)", name, ErrUnknown, runtime.GOOS, valid)
	}
	return entry{}, fmt.Errorf("backend %q: %w (available: %s)", name, ErrUnknown, valid)
}

// Open returns a new Multiplexer of the named backend. A name that is not
// available on this system is an error wrapping ErrUnknown that lists the
// valid names.
func Open(name string) (mux.Multiplexer, error) {
	e, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return e.open()
}

// OpenDefault returns a new Multiplexer of the Default backend. If EnvVar
// names a backend that is not available, the error says so.
func OpenDefault() (mux.Multiplexer, error) {
	name := Default()
	m, err := Open(name)
	if err != nil && os.Getenv(EnvVar) != "" {
		return nil, fmt.Errorf("%s=%q: %w", EnvVar, os.Getenv(EnvVar), err)
	}
	return m, err
}

// Describe returns what the named backend is and can do. It opens one
// Multiplexer to ask it, and closes it.
func Describe(name string) (mux.Info, error) {
	m, err := Open(name)
	if err != nil {
		return mux.Info{}, err
	}
	in := mux.Describe(m)
	if err := m.Close(); err != nil {
		return mux.Info{}, err
	}
	return in, nil
}
