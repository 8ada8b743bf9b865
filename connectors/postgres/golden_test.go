package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// goldenRecords renders records as Kafka Connect's JsonConverter would
// write them (schemas.enable=true), one "topic key value" block each,
// with run-dependent values replaced.
func goldenRecords(t testing.TB, recs []connectors.Record) []byte {
	return renderRecords(t, recs, normalize, false)
}

// renderRecords renders records as goldenRecords does, their key and
// value passed through fix, and with their source offsets (as JSON, keys
// sorted) if offsets is set.
func renderRecords(t testing.TB, recs []connectors.Record, fix func([]byte) []byte, offsets bool) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		k, v := jsonOf(t, r)
		fmt.Fprintf(&b, "topic: %s\nkey: %s\nvalue: %s\n", r.Topic, fix(k), fix(v))
		for _, h := range r.Headers {
			if strings.HasPrefix(h.Key, "__debezium.context.runId") {
				continue
			}
			fmt.Fprintf(&b, "header: %s=%s\n", h.Key, connectors.FormatValue(h.Value))
		}
		if offsets {
			o, err := json.Marshal(r.SourceOffset)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "offset: %s\n", o)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// jsonOf converts a record's key and value with JsonConverter
// (schemas.enable=true), as Kafka Connect would write them.
func jsonOf(t testing.TB, r connectors.Record) (key, value []byte) {
	t.Helper()
	kc, vc := convert.NewJSONConverter(), convert.NewJSONConverter()
	if err := kc.Configure(map[string]string{"schemas.enable": "true"}, true); err != nil {
		t.Fatal(err)
	}
	if err := vc.Configure(map[string]string{"schemas.enable": "true"}, false); err != nil {
		t.Fatal(err)
	}
	key, err := kc.FromConnect(r.Topic, r.KeySchema, r.Key)
	if err != nil {
		t.Fatalf("key of %s: %v", r.Topic, err)
	}
	value, err = vc.FromConnect(r.Topic, r.ValueSchema, r.Value)
	if err != nil {
		t.Fatalf("value of %s: %v", r.Topic, err)
	}
	return key, value
}

// volatile matches payload values that change from run to run.
var volatile = regexp.MustCompile(`"(ts_ms|ts_us|ts_ns|txId|lsn|sequence|db)":("(?:[^"\\]|\\.)*"|-?\d+)`)

// volatileTxID matches a transaction metadata id, "<xid>:<lsn>".
var volatileTxID = regexp.MustCompile(`"id":"\d+:\d+"`)

// normalize replaces run-dependent values by placeholders.
func normalize(b []byte) []byte {
	b = volatileTxID.ReplaceAll(b, []byte(`"id":"<xid>:<lsn>"`))
	return volatile.ReplaceAllFunc(b, func(m []byte) []byte {
		name := volatile.FindSubmatch(m)[1]
		return []byte(`"` + string(name) + `":"<` + string(name) + `>"`)
	})
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", path, err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("%s differs from the golden file\n got: %s\nwant: %s", name, got, want)
	}
}

// envelopeField returns a field of a record's envelope (nil for
// tombstones).
func envelopeField(r connectors.Record, name string) any {
	s, ok := r.Value.(*connectors.Struct)
	if !ok || s == nil {
		return nil
	}
	v, _ := s.Get(name)
	return v
}

func opOf(r connectors.Record) string {
	v, _ := envelopeField(r, "op").(string)
	return v
}

func structField(s any, name string) any {
	st, ok := s.(*connectors.Struct)
	if !ok || st == nil {
		return nil
	}
	v, _ := st.Get(name)
	return v
}
