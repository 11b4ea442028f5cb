// Package backend is the registry of muxkit's backends: it opens a
// [mux.Multiplexer] by name, so that a program, or a whole test suite, can
// choose its backend at run time, and it is where a backend — of this
// module or of any other — makes itself known.
//
// This module registers "epoll" (Linux only), "poll" and "select" (every
// Unix system); elsewhere — Windows, js, wasip1 — it registers none, and
// the package is there for backends of other modules. [Names] lists the
// registered backends, the built-in ones first, best first. [Default] is
// the best one, unless the environment variable MUXKIT_BACKEND ([EnvVar])
// names another:
//
//	MUXKIT_BACKEND=select go test ./...
//
// runs every test that opens its Multiplexer with [OpenDefault] under
// select, as libevent's EVENT_NOEPOLL and friends do. A value that names
// no registered backend is not ignored: OpenDefault fails with an error
// that says where the name came from and lists the valid ones.
//
// # Adding a backend
//
// A package of another module adds its backend with [Register], from an
// init function; a program that imports the package (even for its side
// effect only, with import _) can then open it by name, with
// MUXKIT_BACKEND, and print it in the report of package
// [github.com/muxkit/muxkit/report]. A [Backend] may carry its own Info,
// for Multiplexers that do not implement [mux.Describer], and a
// [RawLoop], so that the report can price its Wait against the bare
// system calls. A backend of this module is registered
// the same way, by one line in the list of built-in backends.
//
// Every backend keeps the contract of package [mux]; they differ in what
// they can report and how they scale, which [Describe] tells without
// keeping a Multiplexer open.
//
// # Testing
//
// Package [github.com/muxkit/muxkit/conformance] checks any backend
// against the contract; package [github.com/muxkit/muxkit/mux/fake] is a
// deterministic stand-in for all of them.
package backend
