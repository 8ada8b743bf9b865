package transforms

import (
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func TestDropHeaders(t *testing.T) {
	str := connectors.StringSchema
	for _, tc := range []struct {
		drop string
		in   []kv
		want []kv
	}{
		{"dropped", []kv{{"dropped", str, "a"}, {"kept", str, "b"}}, []kv{{"kept", str, "b"}}},
		{"dropped", []kv{{"dropped", str, "a"}, {"kept", str, "b"}, {"dropped", str, "c"}}, []kv{{"kept", str, "b"}}},
		{"dropped,other", []kv{{"dropped", str, "a"}, {"other", str, "b"}, {"kept", str, "c"}}, []kv{{"kept", str, "c"}}},
		{"absent", []kv{{"kept", str, "b"}}, []kv{{"kept", str, "b"}}},
		{"absent", nil, nil},
	} {
		tr := newTransform(t, "DropHeaders", map[string]string{"headers": tc.drop})
		r := sourceRecord("topic", nil, "key", nil, "value")
		for _, h := range tc.in {
			r.Headers.Add(h.name, h.schema, h.value)
		}
		n := len(r.Headers)
		out := apply(t, tr, r)
		checkHeaders(t, out.Headers, tc.want, true)
		if len(r.Headers) != n || (n > 0 && r.Headers[0].Key != tc.in[0].name) {
			t.Error("input headers changed")
		}
	}
	wantConfigError(t, configureErr(t, "DropHeaders", map[string]string{"headers": ""}), "headers", "Empty list")
	wantConfigError(t, configureErr(t, "DropHeaders", nil), "headers", "Missing required configuration")
}
