package postgres

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func hstoreMapper(mode string) *typeMapper {
	m := testMapper()
	m.hstoreMode = mode
	m.types = func(oid uint32) *pgType {
		if oid == 91001 { // an extension type: its OID is the database's
			return &pgType{OID: oid, Kind: 'b', Name: "hstore", Schema: "public"}
		}
		return builtinTypes(oid)
	}
	return m
}

func TestParseHstore(t *testing.T) {
	cases := []struct {
		text string
		want []hstoreEntry
	}{
		{``, nil},
		{`"a"=>"1"`, []hstoreEntry{{key: "a", val: "1"}}},
		{`"a"=>"1", "b"=>NULL`, []hstoreEntry{{key: "a", val: "1"}, {key: "b", null: true}}},
		{`"k"=>"NULL"`, []hstoreEntry{{key: "k", val: "NULL"}}},
		{`""=>""`, []hstoreEntry{{key: "", val: ""}}},
		{`"a b"=>"x, y => z"`, []hstoreEntry{{key: "a b", val: "x, y => z"}}},
		{`"q\"uote"=>"back\\slash"`, []hstoreEntry{{key: `q"uote`, val: `back\slash`}}},
		{`"\\\""=>"\\\\"`, []hstoreEntry{{key: `\"`, val: `\\`}}},
		{`"é"=>"日本"`, []hstoreEntry{{key: "é", val: "日本"}}},
	}
	for _, c := range cases {
		got, err := parseHstore([]byte(c.text))
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: got %v, want %v", c.text, got, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: entry %d = %+v, want %+v", c.text, i, got[i], c.want[i])
			}
		}
	}
	for _, bad := range []string{`"a"`, `"a"=>`, `"a"=>"1`, `a=>1`, `"a"=>nul`, `"a\`} {
		if _, err := parseHstore([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHstoreJSON(t *testing.T) {
	m := hstoreMapper(HStoreJSON)
	mp, err := m.mapType(91001, -1)
	if err != nil {
		t.Fatal(err)
	}
	s := mp.builder().Optional().MustBuild()
	if s.Type() != connectors.TypeString || s.Name() != connectors.DebeziumJSON {
		t.Fatalf("schema %v", s)
	}
	if v, ok := s.Version(); !ok || v != 1 {
		t.Errorf("schema version %d, %v", v, ok)
	}
	for text, want := range map[string]string{
		``:                             `{}`,
		`"a"=>"1", "b"=>NULL`:          `{"a":"1","b":null}`,
		`"a"=>"1", "b"=>"2", "q"=>"3"`: `{"a":"1","q":"3","b":"2"}`, // HashMap order: a and q share bucket 1
		`"q\"uote"=>"back\\slash"`:     `{"q\"uote":"back\\slash"}`,
		"\"c\"=>\"tab\there\x01/é\"":   `{"c":"tab\there\u0001/é"}`,
		"\"n\"=>\"\n\r\b\f\x1f\x7f\"":  `{"n":"\n\r\b\f\u001F` + "\x7f" + `"}`,
	} {
		got, err := mp.parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s → %s, want %s", text, got, want)
		}
	}
	if mp.fallback != "{}" {
		t.Errorf("fallback %v", mp.fallback)
	}
	if want := `{"__debezium_unavailable_value":"__debezium_unavailable_value"}`; mp.toast != want {
		t.Errorf("toast %v, want %s", mp.toast, want)
	}
	if d := defaultValue(mp, `'"a"=>"1"'::hstore`); d != nil {
		t.Errorf("default %v; Debezium derives none", d)
	}
}

func TestHstoreMap(t *testing.T) {
	m := hstoreMapper(HStoreMap)
	mp, err := m.mapType(91001, -1)
	if err != nil {
		t.Fatal(err)
	}
	s := mp.builder().Optional().MustBuild()
	if s.Type() != connectors.TypeMap || s.KeySchema().Type() != connectors.TypeString || s.KeySchema().Optional() ||
		s.ValueSchema().Type() != connectors.TypeString || !s.ValueSchema().Optional() || s.Name() != "" {
		t.Fatalf("schema %v", s)
	}
	got, err := mp.parse([]byte(`"a"=>"1", "b"=>NULL, "q\""=>"\\"`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "1", "b": nil, `q"`: `\`}
	if !connectors.ValuesEqual(got, want) {
		t.Errorf("got %s, want %s", connectors.FormatValue(got), connectors.FormatValue(want))
	}
	if err := connectors.ValidateValue(s, got); err != nil {
		t.Error(err)
	}
	empty, _ := mp.parse(nil)
	if !connectors.ValuesEqual(empty, map[string]any{}) || !connectors.ValuesEqual(mp.fallback, map[string]any{}) {
		t.Errorf("empty %v, fallback %v", empty, mp.fallback)
	}
	if !connectors.ValuesEqual(mp.toast, map[string]any{DefaultToastPlaceholder: DefaultToastPlaceholder}) {
		t.Errorf("toast %v", mp.toast)
	}
}

// TestHstoreJavaOrder checks the JSON key order against Java's HashMap,
// recorded in testdata.
func TestHstoreJavaOrder(t *testing.T) {
	f, err := os.Open("testdata/hstore_javaorder.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		in, want, _ := strings.Cut(line, "|")
		var es []hstoreEntry
		for _, k := range strings.Split(in, ",") {
			es = append(es, hstoreEntry{key: k, val: k})
		}
		var got []string
		for _, i := range javaHashMapOrder(es) {
			got = append(got, es[i].key)
		}
		if g := strings.Join(got, ","); g != want {
			t.Errorf("keys %s:\n got %s\nwant %s", in, g, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no cases")
	}
}
