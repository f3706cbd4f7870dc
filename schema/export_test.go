package schema

// ValidateChecked is Validate with the compiled schema check run even where the coercer
// accepted the arguments, for tests that hold the two ways to the same answers.
func ValidateChecked(v *Validator, args map[string]any) (map[string]any, error) {
	if args == nil {
		args = map[string]any{}
	}
	return v.validate(map[string]any{}, args, false)
}

// Covered tells whether Validate skips the compiled check on arguments the coercer accepts.
func Covered(v *Validator) bool { return v.covered }
