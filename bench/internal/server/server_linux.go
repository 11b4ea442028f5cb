// Package server holds the echo servers the peers benchmark compares: each
// answers every byte it receives on a TCP connection with the same byte,
// on one goroutine (or, for net, one per connection), until it is killed.
package server

import "runtime/debug"

// A Server is one of the echo servers.
type Server struct {
	Name  string // short name, for flags and the command line
	Label string // what it is, for the table

	// Run serves on addr ("127.0.0.1:port") and calls ready once
	// connections to addr are accepted. It returns only on failure.
	Run func(addr string, ready func()) error
}

// All is every server, in the order of the table.
var All = []Server{
	{"loop", "`loop` + `statemachine.ServerConn`", serveLoop},
	{"loop-et", "the same, `loop.Config.EdgeTriggered`", serveLoopEdge},
	{"mux", "a minimal loop on `mux/epoll`", serveMux},
	{"raw", "the same loop on raw epoll", serveRaw},
	{"gnet", "gnet " + version("github.com/panjf2000/gnet/v2") + ", one event loop", serveGnet},
	{"net", "net, a goroutine per connection", serveNet},
}

// Lookup returns the server called name.
func Lookup(name string) (Server, bool) {
	for _, s := range All {
		if s.Name == name {
			return s, true
		}
	}
	return Server{}, false
}

// version returns the version of module path built into this program.
func version(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	return "(version unknown)"
}
