module example.com/outsidebackend

go 1.26.0

require (
	github.com/muxkit/muxkit v0.0.0
	golang.org/x/sys v0.50.0
)

// This module lives inside muxkit's repository and builds against the
// muxkit beside it. A module of your own requires a released version
// instead, and has no replace.
replace github.com/muxkit/muxkit => ../..
