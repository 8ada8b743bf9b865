package convert

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sluicedata/sluice/connectors"
)

// The fast writer. FromConnect compiles each schema once into an encNode
// tree (cached with the schema's JSON, see fromEntry) and walks it
// appending straight to one output buffer: no reflection, no per-field
// allocation, no error paths built unless needed. It covers the shapes
// records have (primitives, Timestamp/Date/Time, structs, arrays,
// string-keyed maps, schemaless values); anything else (Decimal, maps
// with other keys, unexpected Go types) is handed to the general writer,
// appendValue, for that subtree. On any problem the fast writer gives up
// and FromConnect starts again with appendValue alone, which is the
// reference: it produces the same bytes and the precise error.

// encKind says how the fast writer handles a value of an encNode.
type encKind uint8

const (
	encGeneric encKind = iota + 1 // appendValue
	encSchemaless
	encInt8
	encInt16
	encInt32
	encInt64
	encFloat32
	encFloat64
	encBool
	encString
	encBytes
	encTimestamp
	encDate
	encTime
	encStruct
	encArray
	encStringMap // a map with STRING keys, written as a JSON object
)

// encNode is a schema compiled for the fast writer. It is immutable.
type encNode struct {
	kind     encKind
	schema   *connectors.Schema // nil for encSchemaless
	optional bool
	def      any        // the schema default, nil if none
	fields   []encField // encStruct
	elem     *encNode   // encArray elements, encStringMap values
}

// encField is a struct field: its member name with the separator and
// colon ("\"id\":" for the first, ",\"name\":" for the next).
type encField struct {
	field  connectors.Field
	prefix string
	node   *encNode
}

// schemalessEnc writes values without a schema.
var schemalessEnc = &encNode{kind: encSchemaless}

func compileEnc(s *connectors.Schema) *encNode {
	if s == nil {
		return schemalessEnc
	}
	n := &encNode{schema: s, optional: s.Optional(), def: s.Default()}
	switch s.Name() {
	case connectors.DecimalLogicalName:
		n.kind = encGeneric
		return n
	case connectors.TimestampLogicalName:
		n.kind = encTimestamp
		return n
	case connectors.DateLogicalName:
		n.kind = encDate
		return n
	case connectors.TimeLogicalName:
		n.kind = encTime
		return n
	}
	switch s.Type() {
	case connectors.TypeInt8:
		n.kind = encInt8
	case connectors.TypeInt16:
		n.kind = encInt16
	case connectors.TypeInt32:
		n.kind = encInt32
	case connectors.TypeInt64:
		n.kind = encInt64
	case connectors.TypeFloat32:
		n.kind = encFloat32
	case connectors.TypeFloat64:
		n.kind = encFloat64
	case connectors.TypeBoolean:
		n.kind = encBool
	case connectors.TypeString:
		n.kind = encString
	case connectors.TypeBytes:
		n.kind = encBytes
	case connectors.TypeStruct:
		n.kind = encStruct
		for i, f := range s.Fields() {
			var p []byte
			if i > 0 {
				p = append(p, ',')
			}
			p = appendJSONString(p, f.Name())
			p = append(p, ':')
			n.fields = append(n.fields, encField{field: f, prefix: string(p), node: compileEnc(f.Schema())})
		}
	case connectors.TypeArray:
		n.kind = encArray
		n.elem = compileEnc(s.ValueSchema())
	case connectors.TypeMap:
		n.kind = encGeneric
		if ks := s.KeySchema(); ks != nil && ks.Type() == connectors.TypeString {
			n.kind = encStringMap
			n.elem = compileEnc(s.ValueSchema())
		}
	default:
		n.kind = encGeneric
	}
	return n
}

// encoder is what FromConnect needs for one top-level schema: the
// compiled tree and the envelope head.
type encoder struct {
	root *encNode
	// head is `{"schema":<schema JSON>,"payload":`.
	head []byte
}

func newEncoder(s *connectors.Schema, schemaJSON []byte) *encoder {
	head := make([]byte, 0, len(`{"schema":,"payload":`)+len(schemaJSON))
	head = append(head, `{"schema":`...)
	head = append(head, schemaJSON...)
	head = append(head, `,"payload":`...)
	return &encoder{root: compileEnc(s), head: head}
}

// fromEntry is a fromCache entry: a schema's JSON, and its encoder once
// the schema has been written at the top level.
type fromEntry struct {
	schema *connectors.Schema
	json   []byte
	enc    atomic.Pointer[encoder]
}

// encoderFor returns the encoder of s, or nil when caching is off or s
// cannot be written (the general writer then reports why).
func (c *JSONConverter) encoderFor(s *connectors.Schema) *encoder {
	if s == nil {
		return c.schemalessEnc
	}
	if e := c.lastFrom.Load(); e != nil && e.schema == s {
		return e.enc.Load()
	}
	if c.cacheSize <= 0 {
		return nil
	}
	e, ok := c.fromCache.get(s)
	if !ok {
		if _, err := c.appendSchema(nil, s); err != nil {
			return nil
		}
		if e, ok = c.fromCache.get(s); !ok {
			return nil // cache disabled
		}
	}
	enc := e.enc.Load()
	if enc == nil {
		enc = newEncoder(s, e.json)
		e.enc.Store(enc)
	}
	c.lastFrom.Store(e)
	return enc
}

// fromConnectFast is FromConnect's fast path; ok is false when it gave up.
//
// The payload is written to a pooled scratch buffer first, then the
// envelope head and the payload are appended to a full-capacity copy of
// the head: one heap allocation per record, of which the runtime zeroes
// only the slack past the payload (append's growth leaves ~10–20%:
// allocating exactly, without zeroing, needs unsafe, and measured 5–10%
// faster at best — not worth it).
func (c *JSONConverter) fromConnectFast(schema *connectors.Schema, value any) ([]byte, bool) {
	enc := c.encoderFor(schema)
	if enc == nil {
		return nil, false
	}
	sp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(sp)
	p, ok := c.encode((*sp)[:0], enc.root, value)
	if cap(p) <= maxScratch {
		*sp = p
	}
	if !ok {
		return nil, false
	}
	if !c.schemasEnable {
		return append([]byte(nil), p...), true
	}
	p = append(p, '}')
	return append(enc.head[:len(enc.head):len(enc.head)], p...), true
}

// scratchPool holds payload buffers for fromConnectFast; buffers that
// grew past maxScratch are not kept.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxScratch = 64 << 10

// encode appends v as n describes; false means "use appendValue".
//
// The Go type a kind expects is tried first: such a value is never a
// Connect null, so the null rules are only looked at for other values.
func (c *JSONConverter) encode(b []byte, n *encNode, v any) ([]byte, bool) {
	switch n.kind {
	case encString:
		if x, ok := v.(string); ok {
			return appendJSONString(b, x), true
		}
	case encInt64:
		if x, ok := v.(int64); ok {
			return strconv.AppendInt(b, x, 10), true
		}
	case encInt32:
		if x, ok := v.(int32); ok {
			return strconv.AppendInt(b, int64(x), 10), true
		}
	case encInt16:
		if x, ok := v.(int16); ok {
			return strconv.AppendInt(b, int64(x), 10), true
		}
	case encInt8:
		if x, ok := v.(int8); ok {
			return strconv.AppendInt(b, int64(x), 10), true
		}
	case encFloat64:
		if x, ok := v.(float64); ok {
			return appendJSONFloat(b, x, 64), true
		}
	case encFloat32:
		if x, ok := v.(float32); ok {
			return appendJSONFloat(b, float64(x), 32), true
		}
	case encBool:
		if x, ok := v.(bool); ok {
			return strconv.AppendBool(b, x), true
		}
	case encBytes:
		if x, ok := v.([]byte); ok && x != nil {
			return appendJSONBytes(b, x), true
		}
	case encTimestamp:
		if t, ok := v.(time.Time); ok {
			return strconv.AppendInt(b, connectors.TimestampToMillis(t), 10), true
		}
	case encDate:
		if t, ok := v.(time.Time); ok {
			d, err := connectors.DateToDays(t)
			return strconv.AppendInt(b, int64(d), 10), err == nil
		}
	case encTime:
		if t, ok := v.(time.Time); ok {
			ms, err := connectors.TimeToMillis(t)
			return strconv.AppendInt(b, int64(ms), 10), err == nil
		}
	case encStruct:
		if st, ok := v.(*connectors.Struct); ok && st != nil {
			if st.Schema() != n.schema && !st.Schema().Equal(n.schema) {
				return b, false
			}
			b = append(b, '{')
			for i := range n.fields {
				f := &n.fields[i]
				b = append(b, f.prefix...)
				if b, ok = c.encode(b, f.node, st.GetFieldWithoutDefault(f.field)); !ok {
					return b, false
				}
			}
			return append(b, '}'), true
		}
	case encArray:
		if x, ok := v.([]any); ok && x != nil {
			return c.encodeArray(b, n.elem, x)
		}
	case encStringMap:
		if m, ok := v.(map[string]any); ok && m != nil {
			return c.encodeStringMap(b, n.elem, m)
		}
	case encSchemaless:
		switch x := v.(type) {
		case string:
			return appendJSONString(b, x), true
		case int64:
			return strconv.AppendInt(b, x, 10), true
		case int32:
			return strconv.AppendInt(b, int64(x), 10), true
		case bool:
			return strconv.AppendBool(b, x), true
		case float64:
			return appendJSONFloat(b, x, 64), true
		case []any:
			if x != nil {
				return c.encodeArray(b, n, x)
			}
		case map[string]any:
			if x != nil {
				return c.encodeStringMap(b, n, x)
			}
		}
	}
	if connectors.IsNull(v) {
		switch {
		case n.schema == nil:
			return append(b, "null"...), true
		case n.def != nil && c.replaceNull:
			return c.encode(b, n, n.def)
		case n.optional:
			return append(b, "null"...), true
		}
		return b, false
	}
	switch n.kind {
	case encGeneric, encSchemaless, encStringMap:
		// Written apart and copied, so that b does not escape through
		// appendValue.
		w, err := c.appendValue(nil, n.schema, v, nil)
		return append(b, w...), err == nil
	}
	return b, false // a value of the wrong type
}

func (c *JSONConverter) encodeArray(b []byte, elem *encNode, x []any) ([]byte, bool) {
	b = append(b, '[')
	var ok bool
	for i, e := range x {
		if i > 0 {
			b = append(b, ',')
		}
		if b, ok = c.encode(b, elem, e); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// encodeStringMap writes m as a JSON object, entries in java.util.HashMap
// order (connectors.JavaHashOrder), values as elem describes.
func (c *JSONConverter) encodeStringMap(b []byte, elem *encNode, m map[string]any) ([]byte, bool) {
	keys := make([]hashedKey, 0, len(m))
	for k := range m {
		keys = append(keys, hashedKey{key: k, bucket: javaStringHash(k)})
	}
	javaOrderStrings(keys)
	b = append(b, '{')
	var ok bool
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k.key)
		b = append(b, ':')
		if b, ok = c.encode(b, elem, m[k.key]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// hashedKey is a string map key with its Java hashCode, then its
// HashMap bucket.
type hashedKey struct {
	key    string
	bucket int32
}

// javaOrderStrings is connectors.JavaHashOrder for distinct string keys:
// by HashMap bucket (spread hash masked by the table capacity), then, as
// JavaHashOrder breaks ties, by the key itself.
func javaOrderStrings(keys []hashedKey) {
	capacity := 16
	for len(keys) > capacity*3/4 {
		capacity *= 2
	}
	mask := uint32(capacity - 1)
	for i := range keys {
		h := uint32(keys[i].bucket)
		keys[i].bucket = int32((h ^ h>>16) & mask)
	}
	slices.SortFunc(keys, func(a, b hashedKey) int {
		if a.bucket != b.bucket {
			return int(a.bucket - b.bucket)
		}
		return strings.Compare(a.key, b.key)
	})
}

// javaStringHash is Java's String.hashCode of s: over its UTF-16 code
// units, invalid UTF-8 read as U+FFFD.
func javaStringHash(s string) int32 {
	var h int32
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			h = 31*h + int32(c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size - 1
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10)&0x3FF)
			h = 31*h + int32(0xDC00+r&0x3FF)
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}
