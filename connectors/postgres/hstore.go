package postgres

import (
	"fmt"
	"slices"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/internal/jackson"
)

// hstore columns, as Debezium 3.4's PostgresValueConverter maps them.
//
// hstore is an extension type: its OID differs per database, so it is
// recognised by its name (pg_type.typname "hstore", as Debezium's
// TypeRegistry does). Debezium parses the column's text
// ("k"=>"v", "n"=>NULL) with pgjdbc's HStoreConverter.fromString into a
// java.util.HashMap, in both the snapshot (JDBC getObject) and the stream
// (pgoutput text), then:
//
//   - hstore.handling.mode=json (the default): a STRING named
//     io.debezium.data.Json (version 1), the map written by Jackson's
//     JsonGenerator: {"k":"v","n":null}, no spaces, entries in the
//     HashMap's iteration order, a NULL value as JSON null; the empty
//     hstore is "{}".
//   - hstore.handling.mode=map: a MAP of STRING to optional STRING, a
//     NULL value a null entry; the empty hstore an empty map.
//
// A required column without a value gets "{}" or the empty map; an
// unchanged TOASTed value Debezium's placeholder map {placeholder:
// placeholder}. Debezium derives no default value from an hstore
// column's default.

// Values of hstore.handling.mode.
const (
	HStoreJSON = "json"
	HStoreMap  = "map"
)

// hstoreMapSchema is the map mode's value schema: keys are never null,
// values may be.
var hstoreMapSchema = connectors.OptionalStringSchema

func (m *typeMapper) hstore() mapping {
	if m.hstoreMode == HStoreMap {
		return mapping{builder: func() *connectors.SchemaBuilder {
			return connectors.MapSchema(connectors.StringSchema, hstoreMapSchema)
		}, parse: parseHstoreMap, fallback: map[string]any{}, toast: map[string]any{m.placeholder: m.placeholder}}
	}
	return mapping{builder: named(connectors.TypeString, connectors.DebeziumJSON), parse: parseHstoreJSON, fallback: "{}",
		toast: string(appendHstoreJSON(nil, []hstoreEntry{{key: m.placeholder, val: m.placeholder}}))}
}

// hstoreEntry is one pair of an hstore value; null marks a NULL value.
type hstoreEntry struct {
	key, val string
	null     bool
}

func parseHstoreMap(b []byte) (any, error) {
	es, err := parseHstore(b)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(es))
	for _, e := range es {
		if e.null {
			out[e.key] = nil
		} else {
			out[e.key] = e.val
		}
	}
	return out, nil
}

func parseHstoreJSON(b []byte) (any, error) {
	es, err := parseHstore(b)
	if err != nil {
		return nil, err
	}
	return string(appendHstoreJSON(make([]byte, 0, len(b)+2), es)), nil
}

// parseHstore reads hstore's text output ("a"=>"1", "b"=>NULL, with \"
// and \\ escaped inside quotes) as HStoreConverter.fromString does: the
// entries in the order of the text, which is Postgres's (by key length,
// then bytes).
func parseHstore(b []byte) ([]hstoreEntry, error) {
	var es []hstoreEntry
	i := 0
	bad := func() ([]hstoreEntry, error) {
		return nil, fmt.Errorf("%w: malformed hstore value %q", connectors.ErrData, b)
	}
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == ',' || b[i] == '\t' || b[i] == '\n') {
			i++
		}
		if i >= len(b) {
			break
		}
		if b[i] != '"' {
			return bad()
		}
		key, n, ok := hstoreQuoted(b[i:])
		if !ok {
			return bad()
		}
		i += n
		for i < len(b) && b[i] == ' ' {
			i++
		}
		if i+2 > len(b) || b[i] != '=' || b[i+1] != '>' {
			return bad()
		}
		i += 2
		for i < len(b) && b[i] == ' ' {
			i++
		}
		e := hstoreEntry{key: key}
		switch {
		case i < len(b) && b[i] == '"':
			e.val, n, ok = hstoreQuoted(b[i:])
			if !ok {
				return bad()
			}
			i += n
		case i+4 <= len(b) && string(b[i:i+4]) == "NULL":
			e.null = true
			i += 4
		default:
			return bad()
		}
		es = append(es, e) // hstore_out never repeats a key

	}
	return es, nil
}

// hstoreQuoted reads a double-quoted string at the start of b (a
// backslash takes the next byte literally), returning it and the bytes
// consumed.
func hstoreQuoted(b []byte) (string, int, bool) {
	var buf []byte
	start := 1
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			buf = append(buf, b[start:i]...)
			i++
			if i >= len(b) {
				return "", 0, false
			}
			start = i
		case '"':
			if buf == nil {
				return string(b[start:i]), i + 1, true
			}
			return string(append(buf, b[start:i]...)), i + 1, true
		}
	}
	return "", 0, false
}

// appendHstoreJSON writes the entries as Debezium does: a JSON object in
// the iteration order of the java.util.HashMap HStoreConverter fills,
// written by Jackson's JsonGenerator (no whitespace; writeStringField
// writes a null value as null).
func appendHstoreJSON(out []byte, es []hstoreEntry) []byte {
	out = append(out, '{')
	for n, i := range javaHashMapOrder(es) {
		if n > 0 {
			out = append(out, ',')
		}
		out = jackson.AppendString(out, es[i].key)
		out = append(out, ':')
		if es[i].null {
			out = append(out, "null"...)
		} else {
			out = jackson.AppendString(out, es[i].val)
		}
	}
	return append(out, '}')
}

// javaHashMapOrder returns the indexes of es in the iteration order of a
// new java.util.HashMap<String, String> into which their keys were put in
// order: by bucket (the spread String hash modulo the table size), then
// by insertion. The table grows as HashMap.putVal grows it (see
// txMonitor.add). A bucket Java turns into a tree (9 or more colliding
// keys in a table of 64 buckets or more) may iterate in another order.
func javaHashMapOrder(es []hstoreEntry) []int {
	hashes := make([]uint32, len(es))
	capacity := 16
	var inBucket [64]int // keys per bucket while the table is smaller than 64
	recount := func(n int) {
		clear(inBucket[:])
		for _, h := range hashes[:n] {
			inBucket[h&uint32(capacity-1)]++
		}
	}
	for i := range es {
		h := javaHash(es[i].key)
		hashes[i] = h
		grown := false
		if capacity < 64 {
			b := h & uint32(capacity-1)
			if inBucket[b] >= 8 { // treeifyBin resizes a small table instead
				capacity *= 2
				grown = true
			}
			inBucket[b]++
		}
		if i+1 > capacity/4*3 {
			capacity *= 2
			grown = true
		}
		if grown && capacity < 64 {
			recount(i + 1)
		}
	}
	order := make([]int, len(es))
	for i := range order {
		order[i] = i
	}
	mask := uint32(capacity - 1)
	slices.SortStableFunc(order, func(a, b int) int {
		return int(hashes[a]&mask) - int(hashes[b]&mask)
	})
	return order
}
