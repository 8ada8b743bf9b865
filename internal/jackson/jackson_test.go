package jackson

import "testing"

func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{"", `""`},
		{`a"b\c/d`, `"a\"b\\c/d"`},
		{"\b\t\n\f\r\x01\x1f", `"\b\t\n\f\r\u0001\u001F"`},
		{"é☃", `"é☃"`},
		{"bad\xffutf8", "\"bad\uFFFDutf8\""},
	} {
		if got := string(AppendString([]byte("x"), tc.in)); got != "x"+tc.want {
			t.Errorf("AppendString(%q) = %s, want x%s", tc.in, got, tc.want)
		}
	}
}
