// Package report is the backend comparison report of muxkit, the one
// go run ./cmd/muxkit prints, for any program to print: for each
// registered backend (package backend's, this module's or another's) and
// for the fake of package mux/fake, what it is and can do (its [mux.Info]),
// its results on the conformance suite rule by rule, and what it costs —
// Wait at several numbers of descriptors with the ratio to the backend's
// raw loop, a ping-pong round trip, and how close Wait(d) returns to d —
// ending in one table to choose a backend from, and, if asked, an SVG
// chart of Wait's cost against the number of descriptors.
//
// [Main] is the whole command, flags included, for a main function; [Run]
// returns the figures as a [Report], for a test or another format. A
// backend registered without a raw loop is measured alone: its costs have
// no ratio ("×n/a"), which is not a failure. A backend that cannot be
// described or opened on this system is a row that says so, with its
// error among the failures; the others are checked and measured as
// usual, and Main exits 1.
//
// It builds on Unix systems only, as package measure does: what it
// reports is made of the OS backends' system calls.
package report
