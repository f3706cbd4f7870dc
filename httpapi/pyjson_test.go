package httpapi

import "testing"

func TestPyNumber(t *testing.T) {
	for lit, want := range map[string]string{
		"23": "23", "-0": "0", "123456789012345678901234567890": "123456789012345678901234567890",
		"1.0": "1.0", "1e5": "100000.0", "1E5": "100000.0", "1.5e-5": "1.5e-05", "0.0001": "0.0001",
		"1e16": "1e+16", "9999999999999998.0": "9999999999999998.0", "-0.0": "-0.0", "0e0": "0.0",
		"0.1": "0.1", "2.5e300": "2.5e+300", "1e400": "1e400",
	} {
		if got := pyNumber(lit); got != want {
			t.Errorf("pyNumber(%s) = %s, want %s", lit, got, want)
		}
	}
}

// The outputs are Python 3.11's json.dumps(json.loads(in), ...) of the same text.
func TestPyStyles(t *testing.T) {
	for _, tc := range []struct {
		in, fast, indent string
	}{
		{`{"b": 1, "a": [1, 2.50, {}], "c": []}`,
			`{"b":1,"a":[1,2.5,{}],"c":[]}`,
			"{\n    \"b\": 1,\n    \"a\": [\n        1,\n        2.5,\n        {}\n    ],\n    \"c\": []\n}"},
		{`["é😀\u0001\u007f<&>\"\\\n", null, true, false]`,
			"[\"é😀\\u0001\x7f<&>\\\"\\\\\\n\",null,true,false]",
			"[\n    \"\\u00e9\\ud83d\\ude00\\u0001\\u007f<&>\\\"\\\\\\n\",\n    null,\n    true,\n    false\n]"},
		{`"Component \"X\" is not registered yet"`, `"Component \"X\" is not registered yet"`, `"Component \"X\" is not registered yet"`},
	} {
		if got, err := fastAPI.text([]byte(tc.in)); err != nil || got != tc.fast {
			t.Errorf("compact %s:\n got %s (%v)\nwant %s", tc.in, got, err, tc.fast)
		}
		if got, err := indent4.text([]byte(tc.in)); err != nil || got != tc.indent {
			t.Errorf("indent=4 %s:\n got %q (%v)\nwant %q", tc.in, got, err, tc.indent)
		}
	}
	for _, bad := range []string{`{"a": }`, `[1] [2]`, ``, `{"a" 1}`} {
		if _, err := fastAPI.text([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
