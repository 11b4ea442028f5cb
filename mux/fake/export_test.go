package fake

// Every Wait in this package's tests checks that the changes of state
// touched the descriptors they concern (see Mux.collect).
func init() { checkMaybe = true }
