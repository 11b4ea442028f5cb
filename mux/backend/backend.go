package backend

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/muxkit/muxkit/mux"
)

// EnvVar is the environment variable that overrides [Default].
const EnvVar = "MUXKIT_BACKEND"

// ErrUnknown is wrapped by the error for a name that no backend is
// registered under on this system.
var ErrUnknown = errors.New("unknown backend")

// Backend is what [Register] records of a backend.
type Backend struct {
	// Name is what Open, MUXKIT_BACKEND and the report call the backend:
	// lower-case letters, digits, '-' and '_'. Required.
	Name string

	// Open returns a new [mux.Multiplexer] of the backend. Required.
	Open func() (mux.Multiplexer, error)

	// Info describes the backend, for one whose Multiplexers do not
	// implement [mux.Describer]. Leave it zero for one whose Multiplexers
	// do: [Describe] then asks one. If set, Info.Name must be Name.
	Info mux.Info

	// Raw, if not nil, returns a new [RawLoop] of the backend: the loop
	// package measure prices it against. Without one the report measures
	// the backend alone and prints no ratio.
	Raw func() (RawLoop, error)
}

// RawLoop is a loop that makes the system calls of a backend directly —
// no lock, no checks, no deadline beyond EINTR, no wake descriptor: the
// least a hand-written event loop over the same calls costs. Package
// measure runs each scenario through it and through the backend, and the
// ratio of the two is the price of the contract.
//
// Its methods are those of [mux.Multiplexer] that the scenarios call, and
// it keeps of the contract only what they rely on: Wait with a timeout of
// 0 polls, a negative one blocks, a positive one waits about that long,
// and each Event it fills holds the descriptor and, of its conditions,
// Readable and Writable. It is used from one goroutine.
type RawLoop interface {
	Add(fd int, interest mux.Events) error
	Modify(fd int, interest mux.Events) error
	Remove(fd int) error
	Wait(events []mux.Event, timeout time.Duration) (int, error)
	Close() error
}

var registry struct {
	sync.RWMutex
	list []Backend // in the order of registration: the built-in ones first
}

// Register makes a backend available by name to [Open], [OpenDefault],
// [Describe], [Lookup] and [Names], and so to the report of cmd/muxkit and
// of package report. A package that implements a backend calls it from an
// init function:
//
//	func init() {
//		backend.Register(backend.Backend{Name: "mine", Open: func() (mux.Multiplexer, error) { return New() }})
//	}
//
// The backends of this module are registered before any other. Like
// [database/sql.Register], Register panics if b.Name is not a valid name or
// is already registered, if b.Open is nil, or if b.Info names another
// backend: these are mistakes in the program, found when it starts.
func Register(b Backend) {
	if err := valid(b); err != nil {
		panic("backend: Register: " + err.Error())
	}
	registry.Lock()
	defer registry.Unlock()
	for _, e := range registry.list {
		if e.Name == b.Name {
			panic(fmt.Sprintf("backend: Register: %q is registered twice", b.Name))
		}
	}
	registry.list = append(registry.list, b)
}

func valid(b Backend) error {
	if b.Name == "" {
		return errors.New("empty name")
	}
	for _, r := range b.Name {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("name %q: want lower-case letters, digits, '-' and '_' only", b.Name)
		}
	}
	if b.Open == nil {
		return fmt.Errorf("%q: Open is nil", b.Name)
	}
	if b.Info.Name != "" && b.Info.Name != b.Name {
		return fmt.Errorf("%q: Info.Name is %q", b.Name, b.Info.Name)
	}
	return nil
}

// Names returns the names of the registered backends: those of this
// module available on this system, best first (epoll on Linux, then poll
// and select; none off Unix), then the others in the order they
// registered.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, len(registry.list))
	for i, b := range registry.list {
		names[i] = b.Name
	}
	return names
}

// Lookup returns the backend registered under name. A name that is not
// registered is an error wrapping [ErrUnknown] that lists the valid names.
func Lookup(name string) (Backend, error) {
	registry.RLock()
	defer registry.RUnlock()
	for _, b := range registry.list {
		if b.Name == name {
			return b, nil
		}
	}
	names := make([]string, len(registry.list))
	for i, b := range registry.list {
		names[i] = b.Name
	}
	available := strings.Join(names, ", ")
	if available == "" {
		available = "none"
	}
	return Backend{}, fmt.Errorf("backend %q: %w on %s (available: %s)", name, ErrUnknown, runtime.GOOS, available)
}

// Default returns the name of the backend [OpenDefault] opens: the value
// of the environment variable [EnvVar] if it is set and not empty —
// whether or not it names a registered backend, so that a mistake in it
// is reported by OpenDefault rather than hidden — and otherwise the first
// of [Names] (epoll on Linux, poll on other Unix systems), or "" where
// none is registered.
func Default() string {
	if v := strings.TrimSpace(os.Getenv(EnvVar)); v != "" {
		return v
	}
	if names := Names(); len(names) > 0 {
		return names[0]
	}
	return ""
}

// Open returns a new [mux.Multiplexer] of the named backend. A name that
// is not registered is an error wrapping [ErrUnknown] that lists the valid
// names.
func Open(name string) (mux.Multiplexer, error) {
	b, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	return b.Open()
}

// OpenDefault returns a new [mux.Multiplexer] of the [Default] backend. If
// [EnvVar] names a backend that is not registered, the error says so.
func OpenDefault() (mux.Multiplexer, error) {
	name := Default()
	m, err := Open(name)
	if err != nil && os.Getenv(EnvVar) != "" {
		return nil, fmt.Errorf("%s=%q: %w", EnvVar, os.Getenv(EnvVar), err)
	}
	return m, err
}

// Describe returns what the named backend is and can do: the Info it
// registered with, or else what a new Multiplexer of it says through
// [mux.Describe] (it opens one and closes it). A Multiplexer that does not
// describe itself is described as mux.Describe does, under its registered
// name.
func Describe(name string) (mux.Info, error) {
	b, err := Lookup(name)
	if err != nil {
		return mux.Info{}, err
	}
	if b.Info.Name != "" {
		return b.Info, nil
	}
	m, err := b.Open()
	if err != nil {
		return mux.Info{}, err
	}
	in := mux.Describe(m)
	if _, ok := m.(mux.Describer); !ok {
		in.Name = name
	}
	if err := m.Close(); err != nil {
		return mux.Info{}, err
	}
	return in, nil
}
