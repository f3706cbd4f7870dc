package supervision

import "errors"

var (
	// ErrInvalidPolicy is wrapped by Policy.Validate and NewTree for out-of-range policy values.
	ErrInvalidPolicy = errors.New("supervision: invalid policy")
	// ErrStopped is wrapped by Tree methods called after Tree.Stop began or the tree actor ended.
	ErrStopped = errors.New("supervision: tree stopped")
)
