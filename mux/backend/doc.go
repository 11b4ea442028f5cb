// Package backend opens a mux.Multiplexer by name, so that a program, or a
// whole test suite, can choose its backend at run time.
//
// The names are "epoll" (Linux only), "poll" and "select". Names lists
// those available on this system, best first. Default is the best one,
// unless the environment variable MUXKIT_BACKEND (EnvVar) names another:
//
//	MUXKIT_BACKEND=select go test ./...
//
// runs every test that opens its Multiplexer with OpenDefault under
// select, as libevent's EVENT_NOEPOLL and friends do. A value that names
// no available backend is not ignored: OpenDefault fails with an error
// that says where the name came from and lists the valid ones.
//
// Every backend keeps the contract of package mux; they differ in what
// they can report and how they scale, which Describe tells without
// keeping a Multiplexer open.
//
// # Testing
//
// Package conformance checks any backend against the contract; package
// mux/fake is a deterministic stand-in for all of them.
package backend
