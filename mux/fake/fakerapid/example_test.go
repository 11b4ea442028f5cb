package fakerapid_test

import (
	"fmt"

	"pgregory.net/rapid"

	"github.com/muxkit/muxkit/mux/fake"
	"github.com/muxkit/muxkit/mux/fake/fakerapid"
)

// In a property, rapid.Check(t, func(t *rapid.T) { … }) gives the *rapid.T;
// here a generator's Example stands in for it, so that the run is one
// fixed draw. A write meets a short-write fault whose size rapid chose,
// and the kernel's Schedule says which fault fired where.
func ExampleChoices() {
	run := rapid.Custom(func(t *rapid.T) string {
		k := fake.New(fake.Config{
			Choices: fakerapid.Choices(t),
			Faults:  fake.Faults{ShortWrite: 1},
		})
		a, _, err := k.Pair()
		if err != nil {
			return err.Error()
		}
		n, err := k.Write(a, []byte("hello, world"))
		return fmt.Sprintf("wrote %d of 12 bytes (%v)\n%s", n, err, k.Schedule())
	})
	fmt.Println(run.Example(1))
	// Output:
	// wrote 5 of 12 bytes (<nil>)
	// at call 3 (write fd=3 12 -> 5): short write of 5 of 12 bytes
}
