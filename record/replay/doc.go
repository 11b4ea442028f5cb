// Package replay replays a recording made by package [record] on the
// fake kernel of package [fake], so that a failure seen once on real
// sockets runs again, the same way every time, in a unit test.
//
// [New] makes a [Replay] of a [record.Recording]. The code that was
// recorded is given the replay's [Replay.Mux] and [Replay.Sys] in place
// of the real ones, and runs on a [fake.Kernel] whose clock follows the
// recording. Each call it makes is compared with the next recorded one;
// while they are the same, the fake answers it as the recorded kernel
// did — the same bytes, the same short writes, the same EAGAIN, the same
// events in the same order, the same resets — because the world outside
// the loop (the other end of each connection, the clients of each
// listener) is rebuilt from the recording and acts just before each call.
//
// At the first call that differs, the replay stops: that call and every
// later one return a [*Divergence] naming the recorded call and the one
// asked (a Wait too, so that a loop stops), and [Replay.Close] returns it.
// A Divergence whose Fake field is set is a call made as recorded that
// the fake answered otherwise: a limit of the replay, not a change of the
// code.
//
// From any step on, a seed can take over ([Config.TakeOver]): the calls
// before it are replayed and compared; from it on the fake's faults
// ([fake.Faults]) are switched on with their choices drawn from the
// seed, and the recorded world goes on delivering its bytes, end of
// stream and resets at their recorded times. Each seed gives a run of its
// own around the recorded failure, the same run each time;
// [fake.Kernel.Schedule] lists the faults it injected.
//
// Wakes are not compared with the recording: other goroutines make them,
// at times the Go scheduler chooses. A replay is deterministic when the
// calls come from one goroutine, as a loop's do.
package replay
