package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/runtime"
)

// Request bodies are decoded the way Kafka's Jersey + Jackson stack does
// (§1, §2.16):
//   - only the first JSON value counts (trailing bytes are ignored) and an
//     empty body is JSON null;
//   - entity objects (CreateConnectorRequest, ConnectorOffsets,
//     ConnectorOffset) are strict: keys match exactly (case-sensitive) and
//     an unknown key fails;
//   - string-valued maps (configs, the loggers body) accept numbers and
//     booleans and keep their JSON text ("tasks.max": 1 is "1"); JSON null
//     is kept as nil; objects and arrays fail;
//   - every failure is errBadJSON (HTTP 500) with a Jackson-style message.

// maxBodyBytes bounds a request body.
const maxBodyBytes = 32 << 20

// Java types named in Jackson's messages.
const (
	javaString           = "java.lang.String"
	javaStringMap        = "java.util.LinkedHashMap<java.lang.String,java.lang.String>"
	javaObjectMap        = "java.util.LinkedHashMap<java.lang.String,java.lang.Object>"
	javaCreateRequest    = "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest"
	javaInitialState     = "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest$InitialState"
	javaConnectorOffsets = "org.apache.kafka.connect.runtime.rest.entities.ConnectorOffsets"
	javaConnectorOffset  = "org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset"
	javaOffsetList       = "java.util.ArrayList<org.apache.kafka.connect.runtime.rest.entities.ConnectorOffset>"
)

// readJSON reads r's body and returns its first JSON value, or nil when the
// body is empty.
func readJSON(r *http.Request) (json.RawMessage, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, restError(errBadJSON, "Failed to read the request body: "+err.Error())
	}
	if len(body) > maxBodyBytes {
		return nil, restError(errBadJSON, fmt.Sprintf("Request body is larger than %d bytes", maxBodyBytes))
	}
	return firstJSONValue(body)
}

// firstJSONValue returns the first JSON value in body (nil if there is
// none); bytes after it are ignored, as Jackson does by default.
func firstJSONValue(body []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, restError(errBadJSON, jsonSyntaxMessage(err))
	}
	return raw, nil
}

func jsonSyntaxMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("Unexpected JSON input: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "Unexpected end-of-input: the request body is not complete JSON"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonToken describes the JSON value raw starts with as Jackson does in
// "Cannot deserialize value of type X from <token>".
func jsonToken(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "No content"
	}
	switch raw[0] {
	case '{':
		return "Object value (token `JsonToken.START_OBJECT`)"
	case '[':
		return "Array value (token `JsonToken.START_ARRAY`)"
	case '"':
		return "String value (token `JsonToken.VALUE_STRING`)"
	case 't':
		return "Boolean value (token `JsonToken.VALUE_TRUE`)"
	case 'f':
		return "Boolean value (token `JsonToken.VALUE_FALSE`)"
	case 'n':
		return "Null value (token `JsonToken.VALUE_NULL`)"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "Floating-point value (token `JsonToken.VALUE_NUMBER_FLOAT`)"
	}
	return "Integer value (token `JsonToken.VALUE_NUMBER_INT`)"
}

func wrongShape(javaType string, raw json.RawMessage, path string) error {
	msg := fmt.Sprintf("Cannot deserialize value of type `%s` from %s", javaType, jsonToken(raw))
	if path != "" {
		msg += " (through reference chain: " + path + ")"
	}
	return restError(errBadJSON, msg)
}

func unknownField(class, key string, known []string) error {
	quoted := make([]string, len(known))
	for i, k := range known {
		quoted[i] = strconv.Quote(k)
	}
	return restError(errBadJSON, fmt.Sprintf(
		"Unrecognized field %q (class %s), not marked as ignorable (%d known properties: %s])",
		key, class, len(known), strings.Join(quoted, ", ")))
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// field is one member of a JSON object, in document order.
type field struct {
	key string
	val json.RawMessage
}

// objectFields returns the members of the JSON object raw in document
// order (duplicates kept; later ones win when applied in order).
func objectFields(raw json.RawMessage) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, restError(errBadJSON, jsonSyntaxMessage(err))
	}
	var fields []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, restError(errBadJSON, jsonSyntaxMessage(err))
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, restError(errBadJSON, jsonSyntaxMessage(err))
		}
		fields = append(fields, field{key, val})
	}
	return fields, nil
}

// scalarText returns the Java string Jackson makes of a scalar JSON value
// when a String is expected: the string itself, or the number's or
// boolean's JSON text. ok is false for objects and arrays; null is
// (nil, true).
func scalarText(raw json.RawMessage) (s *string, ok bool) {
	switch raw[0] {
	case '{', '[':
		return nil, false
	case 'n':
		return nil, true
	case '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, false
		}
		return &v, true
	}
	v := string(raw)
	return &v, true
}

// decodeStringMap decodes a Map<String, String> body (a connector config,
// a config patch, the loggers body). A null or empty body is a nil map.
// JSON null values are nil entries.
func decodeStringMap(raw json.RawMessage) (map[string]*string, error) {
	return decodeStringMapAt(raw, "")
}

func decodeStringMapAt(raw json.RawMessage, path string) (map[string]*string, error) {
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, wrongShape(javaStringMap, raw, path)
	}
	fields, err := objectFields(raw)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*string, len(fields))
	for _, f := range fields {
		s, ok := scalarText(f.val)
		if !ok {
			return nil, wrongShape(javaString, f.val, joinPath(path, "java.util.LinkedHashMap", f.key))
		}
		m[f.key] = s
	}
	return m, nil
}

func joinPath(path, class, key string) string {
	p := class + "[" + strconv.Quote(key) + "]"
	if path == "" {
		return p
	}
	return path + "->" + p
}

// createRequest is POST /connectors' body (§2.16).
type createRequest struct {
	name    *string
	config  map[string]*string
	initial runtime.TargetState // "" when not given
}

var createRequestFields = []string{"name", "config", "initial_state"}

// decodeCreateRequest decodes a CreateConnectorRequest strictly. A null or
// empty body is an empty request.
func decodeCreateRequest(raw json.RawMessage) (createRequest, error) {
	var req createRequest
	if isNull(raw) {
		return req, nil
	}
	if raw[0] != '{' {
		return req, wrongShape(javaCreateRequest, raw, "")
	}
	fields, err := objectFields(raw)
	if err != nil {
		return req, err
	}
	for _, f := range fields {
		at := javaCreateRequest + "[" + strconv.Quote(f.key) + "]"
		switch f.key {
		case "name":
			s, ok := scalarText(f.val)
			if !ok {
				return req, wrongShape(javaString, f.val, at)
			}
			req.name = s
		case "config":
			m, err := decodeStringMapAt(f.val, at)
			if err != nil {
				return req, err
			}
			req.config = m
		case "initial_state":
			s, ok := scalarText(f.val)
			if !ok {
				return req, wrongShape(javaInitialState, f.val, at)
			}
			if s == nil {
				req.initial = ""
				continue
			}
			state, ok := initialStates[strings.ToUpper(*s)]
			if !ok {
				return req, restError(errBadJSON, fmt.Sprintf(
					"Cannot construct instance of `%s`, problem: No enum constant %s.%s (through reference chain: %s)",
					javaInitialState, strings.ReplaceAll(javaInitialState, "$", "."), strings.ToUpper(*s), at))
			}
			req.initial = state
		default:
			return req, unknownField(javaCreateRequest, f.key, createRequestFields)
		}
	}
	return req, nil
}

// initialStates maps CreateConnectorRequest.InitialState to target states.
var initialStates = map[string]runtime.TargetState{
	"RUNNING": runtime.TargetStarted,
	"PAUSED":  runtime.TargetPaused,
	"STOPPED": runtime.TargetStopped,
}

// decodeOffsets decodes a ConnectorOffsets body strictly. present is false
// when the body or its "offsets" is null.
func decodeOffsets(raw json.RawMessage) (offsets runtime.ConnectorOffsets, present bool, err error) {
	if isNull(raw) {
		return offsets, false, nil
	}
	if raw[0] != '{' {
		return offsets, false, wrongShape(javaConnectorOffsets, raw, "")
	}
	fields, err := objectFields(raw)
	if err != nil {
		return offsets, false, err
	}
	for _, f := range fields {
		if f.key != "offsets" {
			return offsets, false, unknownField(javaConnectorOffsets, f.key, []string{"offsets"})
		}
		at := javaConnectorOffsets + `["offsets"]`
		if isNull(f.val) {
			offsets.Offsets, present = nil, false
			continue
		}
		if f.val[0] != '[' {
			return offsets, false, wrongShape(javaOffsetList, f.val, at)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(f.val, &items); err != nil {
			return offsets, false, restError(errBadJSON, jsonSyntaxMessage(err))
		}
		offsets.Offsets = make([]runtime.ConnectorOffset, 0, len(items))
		for i, item := range items {
			o, err := decodeOffset(item, fmt.Sprintf("%s->java.util.ArrayList[%d]", at, i))
			if err != nil {
				return offsets, false, err
			}
			offsets.Offsets = append(offsets.Offsets, o)
		}
		present = true
	}
	return offsets, present, nil
}

func decodeOffset(raw json.RawMessage, path string) (runtime.ConnectorOffset, error) {
	var o runtime.ConnectorOffset
	if isNull(raw) {
		return o, nil
	}
	if raw[0] != '{' {
		return o, wrongShape(javaConnectorOffset, raw, path)
	}
	fields, err := objectFields(raw)
	if err != nil {
		return o, err
	}
	for _, f := range fields {
		if f.key != "partition" && f.key != "offset" {
			return o, unknownField(javaConnectorOffset, f.key, []string{"partition", "offset"})
		}
		at := path + "->" + javaConnectorOffset + "[" + strconv.Quote(f.key) + "]"
		var m map[string]any
		if !isNull(f.val) {
			if f.val[0] != '{' {
				return o, wrongShape(javaObjectMap, f.val, at)
			}
			v, err := decodeValue(f.val)
			if err != nil {
				return o, err
			}
			m = v.(map[string]any)
		}
		if f.key == "partition" {
			o.Partition = m
		} else {
			o.Offset = m
		}
	}
	return o, nil
}

// decodeValue decodes any JSON value with Java's number types in mind:
// integers become int64 (or json.Number beyond int64), other numbers
// float64.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, restError(errBadJSON, jsonSyntaxMessage(err))
	}
	return convertNumbers(v), nil
}

func convertNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = convertNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = convertNumbers(e)
		}
	case json.Number:
		if !strings.ContainsAny(string(t), ".eE") {
			if n, err := t.Int64(); err == nil {
				return n
			}
			return t
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t
	}
	return v
}

// decodeTaskConfigs decodes the internal endpoint's body: a JSON array of
// string maps (null values dropped).
func decodeTaskConfigs(raw json.RawMessage) ([]map[string]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, restError(errBadJSON, "Cannot deserialize the task configs: "+err.Error())
	}
	out := make([]map[string]string, 0, len(items))
	for _, it := range items {
		m, err := decodeStringMap(it)
		if err != nil {
			return nil, err
		}
		config, _ := splitNulls(m)
		out = append(out, config)
	}
	return out, nil
}
