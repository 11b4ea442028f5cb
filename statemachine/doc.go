// Package statemachine holds pure state machines for non-blocking network
// tasks: a client exchange ([Client]) and a server-side connection with
// backpressure ([ServerConn]).
//
// The machines do no I/O. They make no system calls, read no clock, start
// no goroutines and keep no global state. Readiness, the results of I/O
// attempts and the time are inputs ([Input]); what to do next is the
// output ([Output]): an operation to perform now (check the connect result, write
// these bytes, read up to n bytes), the interest to wait with, and whether
// the descriptor is finished with. Given the same inputs, a machine gives
// the same outputs.
//
// # Driving a machine
//
// An event loop drives a machine like this:
//
//  1. Create the machine ([NewClient] after starting a non-blocking
//     connect, [NewServerConn] after accept) and add its descriptor to the
//     [mux.Multiplexer] with the machine's Interest. A Client whose connect
//     returned at once (success or failure) is given [Connected] first.
//  2. Call Step with an input and look at the Output:
//     perform [Output.Op] and feed its result straight back to Step
//     ([OpCheckConnect]: read SO_ERROR and feed Connected; [OpWrite]: write
//     Output.Data and feed [Wrote](n, err); [OpRead]: read at most
//     [Output.Max] bytes and feed [Read](data, err)). Repeat until Op is
//     [OpNone]; if that Output has [Output.SetInterest], Modify the
//     descriptor to Output.Interest. (A machine tells its interest only
//     when it is about to wait, so an exchange whose writes never block
//     costs no Modify.) A read that returns fewer bytes than asked for on
//     a stream socket may be fed as Read(data, EAGAIN): it emptied the
//     receive buffer, and the next read would have said EAGAIN.
//  3. If [Output.Close] is true, Remove the descriptor and close it: the
//     machine is done (Output.Err == nil) or failed (Output.Err says why),
//     and it ignores every later input.
//  4. Otherwise wait. Feed each readiness event for the descriptor as
//     [Ready], and when the time reported by Deadline has come, feed
//     [Tick](now).
//
// Each Op is answered by exactly one result before anything but Tick is
// fed. Results that answer no outstanding Op, and readiness fed while an
// Op is outstanding, are ignored.
//
// Errors are passed in as the system returned them: EAGAIN (which is
// EWOULDBLOCK on every Unix system) and EINTR, compared with [errors.Is]
// against the [syscall.Errno] values, which is what golang.org/x/sys/unix
// returns, mean "try again after readiness"; anything else, such as
// ECONNREFUSED or ECONNRESET, is a failure. A write
// result of n < 0 (unix.Write returns -1 with its error) counts as 0 bytes.
//
// # Values
//
// A machine is a value. Clone ([Client.Clone], [ServerConn.Clone]) returns
// an independent copy; plain assignment copies the state but shares the
// buffers, so step only one of the two. Two machines can be compared with
// [reflect.DeepEqual], unless their configuration holds a func (such as a
// [HandlerFunc]).
//
// # Transitions
//
// [ClientTransitions] and [ServerTransitions] list every state change a
// machine can make, as (from, trigger, to). The property tests check that every
// transition a machine makes is in its table and that every entry in the
// table is made by some run; the diagrams in docs/statemachine are
// generated from the tables and a test fails when they are stale.
//
// # Testing
//
// The machines are tested with pgregory.net/rapid over random readiness
// and I/O-result sequences: short writes, EAGAIN despite readiness,
// spurious readiness, hangups, resets and jumps of time past deadlines.
// Two fuzz targets, FuzzClient and FuzzServerConn, feed them arbitrary
// inputs as well — results that answer nothing or more than was asked,
// any error, any readiness, limits up to [math.MaxInt] — and check what a
// machine keeps whatever it is fed: a clone gives the same outputs, nothing
// comes after the end, a read asks for at least one byte, buffers stay
// within their limits (go test -fuzz FuzzClient ./statemachine).
// To run a machine against a simulated kernel instead of by hand, drive it
// with package [github.com/muxkit/muxkit/loop] over the fake Multiplexer
// of package [github.com/muxkit/muxkit/mux/fake].
//
// # Systems
//
// The package makes no system call, and builds on every system Go
// supports but Plan 9, whose system calls have no errno values to feed it.
package statemachine

//go:generate go test -run TestDiagrams -update
