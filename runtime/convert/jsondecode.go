package convert

import (
	"math"
	"strconv"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/sluicedata/sluice/connectors"
)

// The fast reader. ToConnect reads a record in one pass, guided by its
// schema, without building the jsonNode tree:
//
//   - The envelope's "schema" text is almost always byte-identical record
//     after record. The last few top-level schemas read (recentTo) are
//     matched against the input by a plain byte comparison, which both
//     skips the text and yields the cached *Schema (the same pointer every
//     time, so that transforms' per-schema caches hit). Otherwise the text
//     is looked up in toCache by its bytes; a text never seen is left to
//     the general reader, which parses and caches it for the next record.
//   - The payload is read by a decNode tree compiled once per schema,
//     straight into Connect values. A record's allocations are batched:
//     its Structs (connectors.InitStructUnchecked: every value was just
//     made for its field's schema, so PutField's checks are skipped),
//     their field values, and its strings' bytes each come from one
//     allocation per record (decoder). Values a string field repeats are
//     reused rather than allocated (strcache.go).
//
// The general reader (parseJSON, toConnectSchema, toConnectValue) stays
// the reference. The fast reader handles the common shapes and gives up
// on anything else: a syntax error, a value that does not fit its schema,
// a repeated member name, an unusual envelope (members swapped, escaped
// names). ToConnect then reads the record again with the general reader,
// which returns the same result or the precise error. Rarer kinds
// (Decimal, bytes, maps with non-string keys) are read by the general
// reader for that subtree only.

// decKind says how the fast reader handles a value of a decNode.
type decKind uint8

const (
	decGeneric decKind = iota + 1 // jsonReader.value + toConnectValue
	decSchemaless
	decInt8
	decInt16
	decInt32
	decInt64
	decFloat32
	decFloat64
	decBool
	decString
	decTimestamp
	decDate
	decTime
	decStruct
	decArray
	decStringMap // STRING keys (no logical name), from a JSON object
)

// decNode is a schema compiled for the fast reader. It is immutable but
// for its strings cache, which is safe for concurrent use.
type decNode struct {
	kind     decKind
	schema   *connectors.Schema // nil for decSchemaless
	optional bool
	def      any // the schema default, nil if none
	fields   []decField
	index    map[string]int // decStruct: field index by name
	elem     *decNode       // decArray elements, decStringMap values
	// slots counts the field values of this struct and of the structs
	// nested in it directly (not through arrays or maps), and structs
	// those structs: what one record's slabs need.
	slots, structs int
	// strings are the values a decString field had lately.
	strings *strCache
}

type decField struct {
	name string
	// member is `"name":` when name needs no escaping: the member as
	// Kafka writes it, matched as bytes.
	member string
	node   *decNode
}

// schemalessDec reads values without a schema.
var schemalessDec = &decNode{kind: decSchemaless}

// toEntry is a toCache entry: a schema's JSON text, the schema, and its
// compiled reader once it has been read at the top level.
type toEntry struct {
	raw    string
	schema *connectors.Schema
	dec    atomic.Pointer[decNode]
}

func isLogicalName(name string) bool {
	switch name {
	case connectors.DecimalLogicalName, connectors.DateLogicalName, connectors.TimeLogicalName, connectors.TimestampLogicalName:
		return true
	}
	return false
}

func compileDec(s *connectors.Schema) *decNode {
	if s == nil {
		return schemalessDec
	}
	n := &decNode{kind: decGeneric, schema: s, optional: s.Optional(), def: s.Default()}
	switch s.Name() {
	case connectors.DecimalLogicalName:
		return n
	case connectors.TimestampLogicalName:
		n.kind = decTimestamp
		return n
	case connectors.DateLogicalName:
		n.kind = decDate
		return n
	case connectors.TimeLogicalName:
		n.kind = decTime
		return n
	}
	switch s.Type() {
	case connectors.TypeInt8:
		n.kind = decInt8
	case connectors.TypeInt16:
		n.kind = decInt16
	case connectors.TypeInt32:
		n.kind = decInt32
	case connectors.TypeInt64:
		n.kind = decInt64
	case connectors.TypeFloat32:
		n.kind = decFloat32
	case connectors.TypeFloat64:
		n.kind = decFloat64
	case connectors.TypeBoolean:
		n.kind = decBool
	case connectors.TypeString:
		n.kind = decString
		n.strings = new(strCache)
	case connectors.TypeStruct:
		n.kind = decStruct
		n.index = make(map[string]int, len(s.Fields()))
		n.slots, n.structs = len(s.Fields()), 1
		for i, f := range s.Fields() {
			fn := compileDec(f.Schema())
			df := decField{name: f.Name(), node: fn}
			if q := appendJSONString(nil, f.Name()); string(q[1:len(q)-1]) == f.Name() {
				df.member = string(q) + ":"
			}
			n.fields = append(n.fields, df)
			n.index[f.Name()] = i
			n.slots += fn.slots
			n.structs += fn.structs
		}
	case connectors.TypeArray:
		n.kind = decArray
		n.elem = compileDec(s.ValueSchema())
	case connectors.TypeMap:
		// Other maps are left to the general reader, and to validation:
		// a map[string]any for a map schema without key schema is what
		// toConnectMap returns but not what a struct field accepts.
		if ks := s.KeySchema(); ks != nil && ks.Type() == connectors.TypeString && !isLogicalName(ks.Name()) {
			n.kind = decStringMap
			n.elem = compileDec(s.ValueSchema())
		}
	}
	return n
}

// decoderOf returns e's compiled reader, compiling it on first use.
func decoderOf(e *toEntry) *decNode {
	d := e.dec.Load()
	if d == nil {
		d = compileDec(e.schema)
		e.dec.Store(d)
	}
	return d
}

// decoder is the fast reader's state for one record.
type decoder struct {
	jsonReader
	c *JSONConverter
	// arena backs the strings read: one or two allocations per record
	// instead of one per string (see reserve).
	arena []byte
	// slab backs the field values of the record's nested structs, and
	// structs the Structs (see take and newStruct).
	slab    []any
	structs []connectors.Struct
}

// toConnectFast is ToConnect's fast path for non-nil data; ok is false
// when it gave up.
func (c *JSONConverter) toConnectFast(data []byte) (_ *connectors.Schema, _ any, ok bool) {
	d := decoder{jsonReader: jsonReader{data: data}, c: c}
	if !c.schemasEnable {
		d.skipSpace()
		if d.i == len(data) {
			return nil, nil, false
		}
		v, ok := d.decode(schemalessDec)
		if !ok {
			return nil, nil, false
		}
		d.skipSpace()
		return nil, v, d.i == len(data)
	}
	if c.cacheSize <= 0 {
		return nil, nil, false
	}
	d.skipSpace()
	if !d.lit(`{`) {
		return nil, nil, false
	}
	d.depth = 1
	d.skipSpace()
	if !d.lit(`"schema"`) || !d.colon() {
		return nil, nil, false
	}
	d.skipSpace()
	var schema *connectors.Schema
	dec := schemalessDec
	if !d.lit("null") {
		e := c.recentSchema(data[d.i:])
		if e == nil {
			// Not among the recent ones: found in the cache by its
			// bytes, or left to the general reader, which caches it.
			end, ok := skipObject(data, d.i)
			if !ok {
				return nil, nil, false
			}
			if e, ok = lruGetBytes(c.toCache, data[d.i:end]); !ok {
				return nil, nil, false
			}
			c.recentTo[c.recentNext.Add(1)%uint32(len(c.recentTo))].Store(e)
		}
		d.i += len(e.raw)
		schema, dec = e.schema, decoderOf(e)
	}
	d.skipSpace()
	if !d.lit(",") {
		return nil, nil, false
	}
	d.skipSpace()
	if !d.lit(`"payload"`) || !d.colon() {
		return nil, nil, false
	}
	if dec.structs > 0 {
		d.slab = make([]any, dec.slots)
		d.structs = make([]connectors.Struct, dec.structs)
	}
	v, ok := d.decode(dec)
	if !ok {
		return nil, nil, false
	}
	d.skipSpace()
	if !d.lit("}") {
		return nil, nil, false
	}
	d.skipSpace()
	return schema, v, d.i == len(data)
}

// recentSchema returns the recent top-level entry whose schema text data
// starts with, or nil. A cached text is a complete JSON object that the
// general reader accepted, and an object ends where its text ends, so
// data starting with the text means the schema is exactly that text.
func (c *JSONConverter) recentSchema(data []byte) *toEntry {
	for i := range c.recentTo {
		if e := c.recentTo[i].Load(); e != nil && len(data) >= len(e.raw) && string(data[:len(e.raw)]) == e.raw {
			return e
		}
	}
	return nil
}

// nullValue is what a JSON null (or a missing struct member) reads as:
// toConnectValue's rules.
func (c *JSONConverter) nullValue(n *decNode) (any, bool) {
	switch {
	case n.schema == nil:
		return nil, true
	case n.def != nil && c.replaceNull:
		return n.def, true
	case n.optional:
		return nil, true
	}
	return nil, false
}

// decode reads one value as n describes.
func (d *decoder) decode(n *decNode) (any, bool) {
	d.skipSpace()
	if d.i >= len(d.data) {
		return nil, false
	}
	ch := d.data[d.i]
	if ch == 'n' {
		if !d.lit("null") {
			return nil, false
		}
		return d.c.nullValue(n)
	}
	switch n.kind {
	case decInt8, decInt16, decInt32, decInt64:
		start := d.i
		text, integral, ok := d.scanNumber()
		if !ok {
			return nil, false
		}
		if !integral {
			return d.decodeGeneric(n, start) // "12.0" is 12
		}
		switch n.kind {
		case decInt8:
			v, ok := parseIntText(text, 8)
			return int8(v), ok
		case decInt16:
			v, ok := parseIntText(text, 16)
			return int16(v), ok
		case decInt32:
			v, ok := parseIntText(text, 32)
			return int32(v), ok
		}
		v, ok := parseIntText(text, 64)
		return v, ok
	case decFloat32, decFloat64:
		text, _, ok := d.scanNumber()
		if !ok {
			return nil, false
		}
		if n.kind == decFloat32 {
			f, err := strconv.ParseFloat(string(text), 32)
			return float32(f), err == nil || math.IsInf(f, 0)
		}
		f, err := strconv.ParseFloat(string(text), 64)
		return f, err == nil || math.IsInf(f, 0)
	case decBool:
		if d.lit("true") {
			return true, true
		}
		return false, d.lit("false")
	case decString:
		if ch != '"' {
			return nil, false
		}
		if raw, h, ok := d.plainString(); ok {
			start := d.i + 1
			d.i += len(raw) + 2
			if v, ok := n.strings.get(raw, h); ok {
				return v, true
			}
			return n.strings.add(raw, h, d.keep(raw, start)), true
		}
		return d.strValue()
	case decTimestamp, decDate, decTime:
		text, integral, ok := d.scanNumber()
		if !ok || !integral {
			return nil, false
		}
		if n.kind == decTimestamp {
			v, ok := parseIntText(text, 64)
			return connectors.TimestampFromMillis(v), ok
		}
		v, ok := parseIntText(text, 32)
		if !ok {
			return nil, false
		}
		if n.kind == decDate {
			return connectors.DateFromDays(int32(v)), true
		}
		t, err := connectors.TimeFromMillis(int32(v))
		return t, err == nil
	case decStruct:
		if ch != '{' {
			return nil, false
		}
		return d.decodeStruct(n)
	case decArray:
		if ch != '[' {
			return nil, false
		}
		return d.decodeArray(n.elem)
	case decStringMap:
		if ch != '{' {
			return nil, false
		}
		return d.decodeObject(n.elem)
	case decSchemaless:
		switch {
		case ch == '"':
			return d.strValue()
		case ch == '-' || ch >= '0' && ch <= '9':
			text, integral, ok := d.scanNumber()
			if !ok {
				return nil, false
			}
			if integral {
				return parseIntText(text, 64)
			}
			f, err := strconv.ParseFloat(string(text), 64)
			return f, err == nil || math.IsInf(f, 0)
		case ch == '{':
			return d.decodeObject(n)
		case ch == '[':
			return d.decodeArray(n)
		case ch == 't':
			return true, d.lit("true")
		case ch == 'f':
			return false, d.lit("false")
		}
		return nil, false
	}
	return d.decodeGeneric(n, d.i)
}

// decodeGeneric reads the value at start with the general reader. The
// result is validated against the schema, as PutField would when it is a
// struct field.
func (d *decoder) decodeGeneric(n *decNode, start int) (any, bool) {
	d.i = start
	node, err := d.value()
	if err != nil {
		return nil, false
	}
	v, err := d.c.toConnectValue(n.schema, node, nil)
	if err != nil || connectors.ValidateValue(n.schema, v) != nil {
		return nil, false
	}
	return v, true
}

func (d *decoder) decodeStruct(n *decNode) (any, bool) {
	if !d.enterFast() {
		return nil, false
	}
	vals := d.take(len(n.fields))
	var seen uint64     // fields 0..63 read
	var seenMore []bool // fields from 64 on
	if len(n.fields) > 64 {
		seenMore = make([]bool, len(n.fields)-64)
	}
	next := 0 // the field expected next: members usually come in order
	if !d.empty('}') {
		for more := true; more; {
			d.skipSpace()
			if d.i >= len(d.data) || d.data[d.i] != '"' {
				return nil, false
			}
			idx := -1
			if next < len(n.fields) && n.fields[next].member != "" && d.lit(n.fields[next].member) {
				idx = next // `"name":` as Kafka writes it
			} else {
				if key, ok := d.simpleKey(); ok {
					if i, ok := n.index[string(key)]; ok {
						idx = i
					}
				} else {
					key, err := d.str()
					if err != nil {
						return nil, false
					}
					if i, ok := n.index[key]; ok {
						idx = i
					}
				}
				if !d.colon() {
					return nil, false
				}
			}
			if idx < 0 {
				// Not a field: parsed (it must be valid JSON) and dropped.
				if _, err := d.value(); err != nil {
					return nil, false
				}
			} else {
				// A repeated name is left to the general reader.
				if idx < 64 {
					if seen&(1<<idx) != 0 {
						return nil, false
					}
					seen |= 1 << idx
				} else {
					if seenMore[idx-64] {
						return nil, false
					}
					seenMore[idx-64] = true
				}
				v, ok := d.decode(n.fields[idx].node)
				if !ok {
					return nil, false
				}
				vals[idx] = v
				next = idx + 1
			}
			var ok bool
			if more, ok = d.next('}'); !ok {
				return nil, false
			}
		}
	}
	for i := range n.fields {
		if i < 64 && seen&(1<<i) != 0 || i >= 64 && seenMore[i-64] {
			continue
		}
		v, ok := d.c.nullValue(n.fields[i].node)
		if !ok {
			return nil, false
		}
		vals[i] = v
	}
	if len(d.structs) == 0 {
		return connectors.NewStructUnchecked(n.schema, vals), true
	}
	st := &d.structs[0]
	d.structs = d.structs[1:]
	connectors.InitStructUnchecked(st, n.schema, vals)
	return st, true
}

func (d *decoder) decodeArray(elem *decNode) (any, bool) {
	if !d.enterFast() {
		return nil, false
	}
	out := make([]any, 0, 4)
	if d.empty(']') {
		return out, true
	}
	for more := true; more; {
		v, ok := d.decode(elem)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if more, ok = d.next(']'); !ok {
			return nil, false
		}
	}
	return out, true
}

// decodeObject reads a JSON object into a map[string]any, values as elem
// describes. A repeated name keeps its last value, as the tree does.
func (d *decoder) decodeObject(elem *decNode) (any, bool) {
	if !d.enterFast() {
		return nil, false
	}
	if d.empty('}') {
		return make(map[string]any), true
	}
	// Made at the size the last object at this depth had: objects in a
	// topic tend to have the same members, and a map that grows costs
	// more than one made at its size.
	hint := &d.c.objectSizes[min(d.depth, len(d.c.objectSizes))-1]
	size := hint.Load()
	out := make(map[string]any, size)
	for more := true; more; {
		d.skipSpace()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return nil, false
		}
		var key string
		if k, ok := d.simpleKey(); ok {
			key = d.c.intern(k)
		} else {
			var err error
			if key, err = d.str(); err != nil {
				return nil, false
			}
		}
		if !d.colon() {
			return nil, false
		}
		v, ok := d.decode(elem)
		if !ok {
			return nil, false
		}
		out[key] = v // a repeated name keeps its last value
		if more, ok = d.next('}'); !ok {
			return nil, false
		}
	}
	if n := int32(len(out)); n != size {
		hint.Store(n)
	}
	return out, true
}

// take returns n value slots for a struct, from the record's slab while
// it lasts.
func (d *decoder) take(n int) []any {
	if n == 0 || len(d.slab) < n {
		return make([]any, n)
	}
	v := d.slab[:n:n]
	d.slab = d.slab[n:]
	return v
}

// strValue reads a string value as str does, into the record's arena.
func (d *decoder) strValue() (string, bool) {
	data := d.data
	start := d.i + 1
	ascii := true
	j := start
	for ; j < len(data); j++ {
		c := data[j]
		if c == '"' || c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if j < len(data) && data[j] == '"' && (ascii || utf8.Valid(data[start:j])) {
		d.i = j + 1
		return d.keep(data[start:j], start), true
	}
	if j == len(data) || data[j] != '\\' {
		s, err := d.str() // control characters, invalid UTF-8
		return s, err == nil
	}
	// Escapes: unescaped into the arena, with room for the raw string,
	// which the decoded bytes cannot exceed.
	end := j
	for end < len(data) && data[end] != '"' {
		if data[end] == '\\' {
			end++
		}
		end++
	}
	d.reserve(min(end, len(data))-start, start)
	at := len(d.arena)
	d.arena = append(d.arena, data[start:j]...)
	d.i = j
	var err error
	if d.arena, err = d.unescape(d.arena); err != nil {
		return "", false
	}
	out := d.arena[at:]
	if !utf8.Valid(out) {
		return validUTF8(out), true
	}
	if len(out) == 0 {
		return "", true
	}
	return unsafe.String(&out[0], len(out)), true
}

// keep returns raw, which starts at from in the input, as a string in the
// arena.
func (d *decoder) keep(raw []byte, from int) string {
	if len(raw) == 0 {
		return ""
	}
	d.reserve(len(raw), from)
	at := len(d.arena)
	d.arena = append(d.arena, raw...)
	return unsafe.String(&d.arena[at], len(raw))
}

// reserve makes room in the arena for n bytes of a string found at from
// in the input. A full arena is replaced by a new one, twice as large
// (64 bytes at first) but no larger than the rest of the input needs, so
// a record's strings take one or two allocations. The bytes of an arena
// are never written again once a string refers to them (appends only
// write past the end, and a replaced arena is left as it is), so the
// strings are immutable as Go requires.
func (d *decoder) reserve(n, from int) {
	if cap(d.arena)-len(d.arena) >= n {
		return
	}
	size := min(max(2*cap(d.arena), 64), len(d.data)-from)
	d.arena = make([]byte, 0, max(size, n))
}

// plainString returns the content of the string at d.i, and its hash, if
// it has no escapes or control characters and is ASCII (so that str
// would return it as is), without consuming it.
func (d *decoder) plainString() ([]byte, uint32, bool) {
	data := d.data
	h := uint32(2166136261) // FNV-1a
	for j := d.i + 1; j < len(data); j++ {
		switch ch := data[j]; {
		case ch == '"':
			return data[d.i+1 : j], h, true
		case ch == '\\' || ch < 0x20 || ch >= utf8.RuneSelf:
			return nil, 0, false
		default:
			h = (h ^ uint32(ch)) * 16777619
		}
	}
	return nil, 0, false
}
