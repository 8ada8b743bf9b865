package transforms

import (
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// Field syntax versions (KIP-821), the values of field.syntax.version.
const (
	fieldSyntaxV1 = "V1" // a field name is one top-level field, dots included
	fieldSyntaxV2 = "V2" // dotted paths into nested structs/maps; backticks quote
)

const fieldSyntaxDoc = "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\"."

// fieldSyntaxKey is the field.syntax.version key, as Kafka's
// FieldSyntaxVersion.appendConfigTo defines it.
var fieldSyntaxKey = connectors.ConfigKey{
	Name: "field.syntax.version", Type: connectors.ConfigString, Default: fieldSyntaxV1,
	Validator:  connectors.OneOfIgnoreCase(fieldSyntaxV1, fieldSyntaxV2),
	Importance: connectors.ImportanceHigh, Doc: fieldSyntaxDoc,
}

// fieldPath is Kafka's SingleFieldPath: the steps to one (possibly nested)
// field.
type fieldPath struct {
	text  string
	steps []string
}

// parseFieldPath parses text in the given syntax version (V1 or V2, any
// case). V2 splits on dots; a step wrapped in backticks may contain dots,
// and a backslash before a closing backtick keeps it in the name.
func parseFieldPath(text, version string) (fieldPath, error) {
	if !strings.EqualFold(version, fieldSyntaxV2) {
		return fieldPath{text: text, steps: []string{text}}, nil
	}
	var steps []string
	idx := 0
	for idx < len(text) && idx >= 0 {
		if text[idx] != '`' {
			start := idx
			dot := indexFrom(text, '.', idx)
			if dot >= 0 {
				steps = append(steps, text[start:dot])
				idx = dot + 1
			} else {
				steps = append(steps, text[start:])
				idx = -1
			}
			continue
		}
		backtickAt := idx
		idx++
		var field []byte
		start := idx
		for {
			idx = indexFrom(text, '`', idx)
			if idx == -1 {
				return fieldPath{}, incompleteBacktick(text, backtickAt)
			}
			escaped := text[idx-1] == '\\'
			if idx >= len(text)-1 {
				if escaped {
					return fieldPath{}, incompleteBacktick(text, backtickAt)
				}
				field = append(field, text[start:idx]...)
				steps = append(steps, string(field))
				idx++
				break
			}
			if text[idx+1] != '.' {
				idx++
				continue
			}
			if escaped {
				field = append(field, text[start:idx-1]...)
				field = append(field, '`')
				idx++
				start = idx
				continue
			}
			field = append(field, text[start:idx]...)
			steps = append(steps, string(field))
			idx += 2
			break
		}
	}
	if len(text) > 0 && text[len(text)-1] == '.' {
		steps = append(steps, "")
	}
	return fieldPath{text: text, steps: steps}, nil
}

func indexFrom(s string, c byte, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func incompleteBacktick(path string, at int) error {
	return &connectors.ConfigError{Message: "Incomplete backtick pair in path: [" + path +
		"], consider adding a backslash before backtick at position " + strconv.Itoa(at) + " to escape it"}
}

// fieldFrom returns the field the path names in schema.
func (p fieldPath) fieldFrom(schema *connectors.Schema) (connectors.Field, bool) {
	if schema == nil || len(p.steps) == 0 {
		return connectors.Field{}, false
	}
	cur := schema
	for _, step := range p.steps[:len(p.steps)-1] {
		f, ok := cur.Field(step)
		if !ok {
			return connectors.Field{}, false
		}
		cur = f.Schema()
	}
	return cur.Field(p.steps[len(p.steps)-1])
}

// valueFromStruct returns the value at the path, nil where a step is
// missing or null.
func (p fieldPath) valueFromStruct(s *connectors.Struct, withDefault bool) (any, error) {
	if s == nil || len(p.steps) == 0 {
		return nil, nil
	}
	cur := s
	for _, step := range p.steps[:len(p.steps)-1] {
		f, ok := cur.Schema().Field(step)
		if !ok {
			return nil, nil
		}
		next, err := requireStructOrNull(cur.GetField(f), "nested field access")
		if err != nil || next == nil {
			return nil, err
		}
		cur = next
	}
	f, ok := cur.Schema().Field(p.steps[len(p.steps)-1])
	if !ok {
		return nil, nil
	}
	return fieldValue(cur, f, withDefault), nil
}

// valueFromMap returns the value at the path in a schemaless map.
func (p fieldPath) valueFromMap(m map[string]any) (any, error) {
	if m == nil || len(p.steps) == 0 {
		return nil, nil
	}
	cur := m
	for _, step := range p.steps[:len(p.steps)-1] {
		v := cur[step]
		if connectors.IsNull(v) {
			return nil, nil
		}
		next, err := requireMap(v, "nested field access")
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur[p.steps[len(p.steps)-1]], nil
}
