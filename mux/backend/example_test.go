package backend_test

import (
	"errors"
	"fmt"

	"github.com/muxkit/muxkit/mux/backend"
)

// A name that no backend is registered under is an error wrapping
// ErrUnknown, which lists the names that are.
func ExampleOpen_unknown() {
	_, err := backend.Open("kqueue")
	fmt.Println(errors.Is(err, backend.ErrUnknown))
	// Output: true
}
