package convert

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	c "github.com/sluicedata/sluice/connectors"
)

// The fast reader and writer must agree with the general ones wherever
// they do not give up. These tests compare them directly over the golden
// files, the other tests' inputs, random schemas and values, and
// mutations of all of these.

// fastConfigs are the converter configurations the comparisons run under.
var fastConfigs = [][]string{
	nil,
	{"schemas.enable", "false"},
	{"replace.null.with.default", "false"},
	{"decimal.format", "NUMERIC"},
	{"schemas.cache.size", "1"},
	{"schemas.cache.size", "0"},
}

// checkToConnect fails if the fast reader accepts data and the general
// reader does not return exactly the same schema and value. The general
// reader goes first, so that the schema is cached, as the fast reader
// needs.
func checkToConnect(t testing.TB, conv *JSONConverter, data []byte) (fast bool) {
	t.Helper()
	gs, gv, err := conv.toConnectGeneral(data)
	fs, fv, ok := conv.toConnectFast(data)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("fast reader accepted what the general reader rejects (%v):\n%q", err, data)
	}
	// The same *Schema, unless the cache has evicted schemas: then the
	// fast reader may still hold one that the general reader rebuilt.
	if fs != gs && (conv.toCache.len() < conv.cacheSize || !fs.Equal(gs)) {
		t.Fatalf("fast reader schema %v, general %v (not the same *Schema):\n%q", fs, gs, data)
	}
	if !reflect.DeepEqual(fv, gv) {
		t.Fatalf("fast reader value %#v\ngeneral reader %#v\nfor %q", fv, gv, data)
	}
	return true
}

// checkFromConnect fails if the fast writer succeeds and the general
// writer does not write the same bytes.
func checkFromConnect(t testing.TB, conv *JSONConverter, s *c.Schema, v any) {
	t.Helper()
	checkAppendFromConnect(t, conv, s, v)
	if s == nil && c.IsNull(v) {
		return
	}
	fb, ok := conv.fromConnectFast(s, v)
	if !ok {
		return
	}
	gb, err := conv.fromConnectGeneral(s, v)
	if err != nil {
		t.Fatalf("fast writer wrote %s for what the general writer rejects: %v", fb, err)
	}
	if !bytes.Equal(fb, gb) {
		t.Fatalf("fast writer:   %s\ngeneral writer: %s", fb, gb)
	}
}

// checkAppendFromConnect checks that AppendFromConnect appends to a
// buffer holding other bytes what FromConnect returns, or fails as it
// does.
func checkAppendFromConnect(t testing.TB, conv *JSONConverter, s *c.Schema, v any) {
	t.Helper()
	want, werr := conv.FromConnect("t", s, v)
	prefix := []byte("prefix")
	got, gerr := conv.AppendFromConnect(append(make([]byte, 0, 8), prefix...), "t", s, v)
	switch {
	case (werr == nil) != (gerr == nil):
		t.Fatalf("FromConnect: %v, AppendFromConnect: %v", werr, gerr)
	case werr != nil:
	case want == nil:
		if got != nil {
			t.Fatalf("AppendFromConnect of null: %q", got)
		}
	case !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want):
		t.Fatalf("AppendFromConnect: %s\nFromConnect:        %s", got, want)
	}
}

// mutations returns variants of data: each byte deleted, replaced by one
// of a few JSON-significant bytes, or preceded by one.
func mutations(data []byte, rng *rand.Rand, n int) [][]byte {
	const alphabet = "\"\\{}[],:0-9.eE+ntf \n\x01\x80\xffxu"
	var out [][]byte
	for range n {
		if len(data) == 0 {
			break
		}
		i := rng.IntN(len(data))
		m := append([]byte(nil), data...)
		switch rng.IntN(4) {
		case 0:
			m = append(m[:i], m[i+1:]...)
		case 1:
			m[i] = alphabet[rng.IntN(len(alphabet))]
		case 2:
			m = append(m[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, m[i:]...)...)
		case 3: // duplicate a span, e.g. a member
			j := min(len(data), i+1+rng.IntN(40))
			m = append(m[:j], append(append([]byte(nil), data[i:j]...), m[j:]...)...)
		}
		out = append(out, m)
	}
	return out
}

// seedInputs returns the golden files and the JSON texts of the other
// tests.
func seedInputs(t testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "json", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, s := range []string{
		`{ "schema": { "type": "boolean", "default": true }, "payload": null }`,
		`{ "schema": { "type": "int64" }, "payload": 00000123456789 }`,
		`{ "schema": { "type": "int8" }, "payload": 0012 }`,
		`{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }`,
		`{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }`,
		`{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": 1.56 }`,
		`{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1,  "optional": true, "default": 42 }, "payload": null }`,
		`{ "schema": null, "payload": [1, "2", 3, 1.5e3, -0, {"a": [true, false, null]}] }`,
		`{"schema":{"type":"struct","fields":[{"type":"int32","field":"a"},{"type":"int32","field":"a"}]},"payload":{"a":1}}`,
		`{"schema":{"type":"struct","fields":[{"type":"int32","field":"id"}]},"payload":{"id":1,"id":2}}`,
		`{"schema":{"type":"struct","fields":[{"type":"int32","field":"id"}]},"payload":{"i\u0064":1,"x":[1,{"y":"\ud83d\ude00"}]}}`,
		`{"schema":{"type":"struct","fields":[{"type":"int8","field":"id"},{"type":"float","field":"f"}]},"payload":{"id":1.0e2,"f":1e39}}`,
		`{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":-2147483648}`,
		`{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Time"},"payload":86399999}`,
		`{"schema":{"type":"array","items":{"type":"string","optional":true}},"payload":["a\"b\\c\u00e9\ud800x", null, "\u0000"]}`,
		`{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int64"}},"payload":{"a":1,"a":2,"b":-9223372036854775808}}`,
		`{"schema":{"type":"map","values":{"type":"int64"}},"payload":{"a":1}}`,
		`{"schema":{"type":"struct","fields":[{"type":"map","values":{"type":"int64"},"field":"m"}]},"payload":{"m":{"a":1}}}`,
		`{"payload":1,"schema":{"type":"int32"}}`,
		"{\"schema\":{\"type\":\"string\"},\"payload\":\"\xff\xfe ok\"}",
		`[1,2,3]`, `"x"`, `12.5`, ``, ` `, `null`, `{}`, `{"a":{"b":{"c":[[[]]]}}}`,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// TestJSONFastReaderMatchesGeneral compares the readers over the seeds
// and thousands of mutations of them, in every configuration.
func TestJSONFastReaderMatchesGeneral(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	seeds := seedInputs(t)
	for _, props := range fastConfigs {
		conv := jsonConv(t, props...)
		for _, seed := range seeds {
			checkToConnect(t, conv, seed)
			for _, m := range mutations(seed, rng, 400) {
				checkToConnect(t, conv, m)
			}
		}
	}
}

// TestJSONFastReaderUsed checks that the fast reader does handle the
// records it is for, and returns the cached *Schema each time.
func TestJSONFastReaderUsed(t *testing.T) {
	t.Parallel()
	for _, r := range benchRecords(t) {
		conv := r.conv(t)
		data, err := conv.FromConnect("t", r.schema, r.value)
		if err != nil {
			t.Fatal(err)
		}
		first, _, err := conv.ToConnect("t", data)
		if err != nil {
			t.Fatal(err)
		}
		s, v, ok := conv.toConnectFast(data)
		if !ok {
			t.Fatalf("%s: fast reader gave up", r.name)
		}
		if s != first {
			t.Fatalf("%s: schema %p, then %p", r.name, first, s)
		}
		checkToConnect(t, conv, data)
		if r.schemas && !c.ValuesEqual(v, r.value) {
			t.Fatalf("%s: read %v, want %v", r.name, v, r.value)
		}
		if _, ok := conv.fromConnectFast(r.schema, r.value); !ok {
			t.Fatalf("%s: fast writer gave up", r.name)
		}
		checkFromConnect(t, conv, r.schema, r.value)
	}
}

// TestJSONFastWriterMatchesGeneral compares the writers over the golden
// cases and the error cases' values.
func TestJSONFastWriterMatchesGeneral(t *testing.T) {
	t.Parallel()
	for _, props := range fastConfigs {
		conv := jsonConv(t, props...)
		for _, tc := range jsonCases(t) {
			checkFromConnect(t, conv, tc.schema, tc.value)
		}
	}
}

// TestJSONFastRandom writes random values of random schemas (some of
// them invalid) with both writers, and reads what they write, mutated,
// with both readers.
func TestJSONFastRandom(t *testing.T) {
	t.Parallel()
	n := 3000
	if testing.Short() {
		n = 300
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, props := range fastConfigs {
		conv := jsonConv(t, props...)
		for range n {
			g := &gen{rng: rng}
			s := g.schema(0)
			v := g.value(s, 0)
			checkFromConnect(t, conv, s, v)
			data, err := conv.fromConnectGeneral(s, v)
			if err != nil {
				continue
			}
			checkToConnect(t, conv, data)
			for _, m := range mutations(data, rng, 20) {
				checkToConnect(t, conv, m)
			}
		}
	}
}

// FuzzJSONToConnect compares the readers on arbitrary input:
//
//	go test -run '^$' -fuzz FuzzJSONToConnect ./runtime/convert
func FuzzJSONToConnect(f *testing.F) {
	for _, s := range seedInputs(f) {
		f.Add(s, uint8(0))
	}
	convs := make([]*JSONConverter, len(fastConfigs))
	for i, props := range fastConfigs {
		convs[i] = jsonConv(f, props...)
	}
	f.Fuzz(func(t *testing.T, data []byte, cfg uint8) {
		conv := convs[int(cfg)%len(convs)]
		checkToConnect(t, conv, data)
	})
}

// gen makes random schemas and values.
type gen struct{ rng *rand.Rand }

func (g *gen) name(prefix string) string {
	names := []string{"id", "name", "a", "b", "ts", "é", "with \"quote\"", "x\ny", "value"}
	return prefix + names[g.rng.IntN(len(names))]
}

func (g *gen) schema(depth int) *c.Schema {
	var b *c.SchemaBuilder
	k := g.rng.IntN(17)
	if depth > 2 && k >= 12 {
		k = g.rng.IntN(12)
	}
	switch k {
	case 0:
		b = c.NewSchema(c.TypeInt8)
	case 1:
		b = c.NewSchema(c.TypeInt16)
	case 2:
		b = c.NewSchema(c.TypeInt32)
	case 3:
		b = c.NewSchema(c.TypeInt64)
	case 4:
		b = c.NewSchema(c.TypeFloat32)
	case 5:
		b = c.NewSchema(c.TypeFloat64)
	case 6:
		b = c.NewSchema(c.TypeBoolean)
	case 7:
		b = c.NewSchema(c.TypeString)
	case 8:
		b = c.NewSchema(c.TypeBytes)
	case 9:
		b = c.TimestampBuilder()
	case 10:
		b = c.DateBuilder()
	case 11:
		switch g.rng.IntN(2) {
		case 0:
			b = c.TimeBuilder()
		default:
			b = c.DecimalBuilder(int(g.rng.IntN(4)))
		}
	case 12, 13, 14:
		b = c.StructSchema()
		seen := map[string]bool{}
		for range g.rng.IntN(6) {
			name := g.name("")
			if seen[name] {
				continue
			}
			seen[name] = true
			b.Field(name, g.schema(depth+1))
		}
	case 15:
		b = c.ArraySchema(g.schema(depth + 1))
	case 16:
		keys := []*c.Schema{c.StringSchema, c.Int32Schema, c.OptionalStringSchema}
		b = c.MapSchema(keys[g.rng.IntN(len(keys))], g.schema(depth+1))
	}
	if g.rng.IntN(3) == 0 {
		b.Optional()
	}
	if g.rng.IntN(8) == 0 {
		b.Name(g.name("n."))
	}
	s := b.MustBuild()
	if g.rng.IntN(6) == 0 {
		if d := g.value(s, 9); !c.IsNull(d) {
			if ds, err := s.Builder().Default(d).Build(); err == nil {
				s = ds
			}
		}
	}
	return s
}

// value returns a value for s: mostly valid, sometimes null, sometimes of
// the wrong type.
func (g *gen) value(s *c.Schema, depth int) any {
	switch g.rng.IntN(12) {
	case 0:
		return nil
	case 1:
		wrong := []any{"str", int64(1), int32(2), 1.5, true, []any{}, map[string]any{"k": "v"}, int(3), uint8(4), []byte("b")}
		return wrong[g.rng.IntN(len(wrong))]
	}
	switch s.Name() {
	case c.TimestampLogicalName:
		return c.TimestampFromMillis(g.rng.Int64N(1e13) - 5e12)
	case c.DateLogicalName:
		return c.DateFromDays(int32(g.rng.IntN(40000) - 20000))
	case c.TimeLogicalName:
		return c.TimestampFromMillis(g.rng.Int64N(86400000))
	case c.DecimalLogicalName:
		scale, _ := c.DecimalScale(s)
		return c.DecimalFromInt64(g.rng.Int64N(1e9)-5e8, scale)
	}
	switch s.Type() {
	case c.TypeInt8:
		return int8(g.rng.Uint32())
	case c.TypeInt16:
		return int16(g.rng.Uint32())
	case c.TypeInt32:
		return int32(g.rng.Uint32())
	case c.TypeInt64:
		return int64(g.rng.Uint64())
	case c.TypeFloat32:
		return []float32{1.5, -0.25, 1e20, 3.4e38, float32(math.Inf(1))}[g.rng.IntN(5)]
	case c.TypeFloat64:
		return []float64{1.5, -0.25, 1e20, 1e-7, math.NaN(), g.rng.Float64()}[g.rng.IntN(6)]
	case c.TypeBoolean:
		return g.rng.IntN(2) == 0
	case c.TypeString:
		return []string{"", "plain", "q\"b\\s/\n\x01é€😀", "\xff"}[g.rng.IntN(4)]
	case c.TypeBytes:
		return []byte(fmt.Sprint(g.rng.IntN(1000)))
	case c.TypeArray:
		out := []any{}
		for range g.rng.IntN(3) {
			out = append(out, g.value(s.ValueSchema(), depth+1))
		}
		return out
	case c.TypeMap:
		if s.KeySchema().Type() == c.TypeString && g.rng.IntN(4) > 0 {
			m := map[string]any{}
			for range g.rng.IntN(4) {
				m[g.name("")] = g.value(s.ValueSchema(), depth+1)
			}
			return m
		}
		m := map[any]any{}
		for range g.rng.IntN(4) {
			k := g.value(s.KeySchema(), depth+1)
			if k != nil && !reflect.TypeOf(k).Comparable() {
				continue
			}
			m[k] = g.value(s.ValueSchema(), depth+1)
		}
		return m
	case c.TypeStruct:
		st := c.NewStruct(s)
		for _, f := range s.Fields() {
			_ = st.PutField(f, g.value(f.Schema(), depth+1)) // invalid values stay unset
		}
		return st
	}
	return nil
}

// TestJavaOrderStrings checks the fast writer's map order against
// connectors.JavaHashOrderStrings.
func TestJavaOrderStrings(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	pieces := []string{"a", "b", "key", "é", "€", "😀", "\xff", "Aa", "BB", "0", "\x00", "𝄞x"}
	for range 2000 {
		set := map[string]bool{}
		for range rng.IntN(40) {
			var k string
			for range 1 + rng.IntN(4) {
				k += pieces[rng.IntN(len(pieces))]
			}
			set[k] = true
		}
		var want []string
		var got []hashedKey
		for k := range set {
			want = append(want, k)
			got = append(got, hashedKey{key: k, bucket: javaStringHash(k)})
		}
		c.JavaHashOrderStrings(want)
		javaOrderStrings(got)
		for i := range want {
			if got[i].key != want[i] {
				t.Fatalf("order of %q:\n got %v\nwant %q", want, got, want)
			}
		}
	}
}

// TestJSONFastWideStruct reads structs of more than 64 fields, where the
// fast reader tracks the fields it has seen differently.
func TestJSONFastWideStruct(t *testing.T) {
	t.Parallel()
	b := c.StructSchema()
	var vals []any
	for i := range 70 {
		b.Field(fmt.Sprintf("f%d", i), c.OptionalInt32Schema)
		vals = append(vals, int32(i))
	}
	s := b.MustBuild()
	conv := jsonConv(t)
	data, err := conv.FromConnect("t", s, mustStruct(t, s, vals...))
	if err != nil {
		t.Fatal(err)
	}
	if !checkToConnect(t, conv, data) {
		t.Fatal("fast reader gave up")
	}
	for _, edit := range []struct{ old, new string }{
		{`"f68":68,`, ``},                  // missing: null
		{`"f68":68,`, `"f68":68,"f68":1,`}, // repeated: left to the general reader
		{`"f3":3,`, `"f3":3,"f3":1,`},
	} {
		m := bytes.Replace(data, []byte(edit.old), []byte(edit.new), 1)
		checkToConnect(t, conv, m)
	}
}

// TestJSONFastInterleavedSchemas reads records of more schemas than
// recentTo holds, interleaved, as a topic fed by several tables is: the
// fast reader finds each schema by its bytes in the cache.
func TestJSONFastInterleavedSchemas(t *testing.T) {
	t.Parallel()
	conv := jsonConv(t)
	var records [][]byte
	var schemas []*c.Schema
	for i := range 7 {
		name := fmt.Sprintf(`f}]"{[\%d`, i) // braces and quotes, escaped in the text
		s := c.StructSchema().Name(fmt.Sprintf("t%d", i)).Field(name, c.Int32Schema).
			Field("s", c.NewSchema(c.TypeString).Doc(`a "doc" with } and ]`).MustBuild()).MustBuild()
		data, err := conv.FromConnect("t", s, mustStruct(t, s, int32(i), "x"))
		if err != nil {
			t.Fatal(err)
		}
		records, schemas = append(records, data), append(schemas, s)
	}
	for round := range 3 {
		for i, data := range records {
			if !checkToConnect(t, conv, data) {
				t.Fatalf("round %d, schema %d: fast reader gave up", round, i)
			}
			s, v, _ := conv.toConnectFast(data)
			if !s.Equal(schemas[i]) || v.(*c.Struct).Schema() != s {
				t.Fatalf("schema %d read as %v", i, s)
			}
		}
	}
	if end, ok := skipObject([]byte(`{"a":"}\"}","b":[{}]} tail`), 0); !ok || end != 21 {
		t.Fatalf("skipObject = %d, %v", end, ok)
	}
}

// TestJSONFastConcurrent converts varied records from several goroutines
// through shared converters (as a task's parallel conversion does), so
// that -race checks the caches the fast paths share.
func TestJSONFastConcurrent(t *testing.T) {
	t.Parallel()
	for _, r := range benchRecords(t) {
		conv := r.conv(t)
		want := make([][]byte, 64)
		wantValues := make([]any, 64)
		for i := range want {
			ref := r.conv(t)
			b, err := ref.fromConnectGeneral(r.schema, r.values[i])
			if err != nil {
				t.Fatal(err)
			}
			if _, wantValues[i], err = ref.toConnectGeneral(b); err != nil {
				t.Fatal(err)
			}
			want[i] = b
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 400 {
					k := (i*7 + g) % len(want)
					b, err := conv.FromConnect("t", r.schema, r.values[k])
					if err != nil || !bytes.Equal(b, want[k]) {
						t.Errorf("%s: FromConnect = %s, %v\nwant %s", r.name, b, err, want[k])
						return
					}
					_, v, err := conv.ToConnect("t", b)
					if err != nil || !reflect.DeepEqual(v, wantValues[k]) {
						t.Errorf("%s: ToConnect = %v, %v\nwant %v", r.name, v, err, wantValues[k])
						return
					}
				}
			})
		}
		wg.Wait()
	}
}
