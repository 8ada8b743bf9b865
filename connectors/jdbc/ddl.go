package jdbc

import (
	"strconv"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
)

// Schema evolution: CREATE TABLE for auto.create / schema.evolution=basic,
// ALTER TABLE … ADD COLUMN for auto.evolve. Columns are only ever added,
// nullable; nothing is dropped or retyped.

// Debezium's column type propagation parameters
// (column.propagate.source.type on the source connector).
const (
	paramSourceType   = "__debezium.source.column.type"
	paramSourceLength = "__debezium.source.column.length"
	paramSourceScale  = "__debezium.source.column.scale"
)

// columnType returns the PostgreSQL type for a field of schema s (nil:
// schemaless, typed from the sample value v), and false when the schema
// cannot be mapped.
func columnType(s *connectors.Schema, v any) (string, bool) {
	if s == nil {
		return dynamicType(v), true
	}
	if t, ok := propagatedType(s); ok {
		return t, true
	}
	switch s.Name() {
	case connectors.DecimalLogicalName:
		scale, _ := connectors.DecimalScale(s)
		if p, ok := s.Parameter(connectors.DebeziumPrecisionParam); ok {
			if n, err := strconv.Atoi(p); err == nil && n > 0 && int(scale) >= 0 && int(scale) <= n {
				return "numeric(" + p + "," + strconv.Itoa(int(scale)) + ")", true
			}
		}
		return "numeric", true
	case connectors.DateLogicalName, connectors.DebeziumDate, connectors.DebeziumIsoDate:
		return "date", true
	case connectors.TimeLogicalName, connectors.DebeziumTime:
		return "time(3)", true
	case connectors.DebeziumMicroTime, connectors.DebeziumNanoTime, connectors.DebeziumIsoTime:
		return "time(6)", true
	case connectors.DebeziumZonedTime:
		return "time with time zone", true
	case connectors.TimestampLogicalName, connectors.DebeziumTimestamp:
		return "timestamp(3)", true
	case connectors.DebeziumMicroTimestamp, connectors.DebeziumNanoTimestamp, connectors.DebeziumIsoTimestamp:
		return "timestamp(6)", true
	case connectors.DebeziumZonedTimestamp:
		return "timestamp with time zone", true
	case connectors.DebeziumYear:
		return "integer", true
	case connectors.DebeziumMicroDuration, connectors.DebeziumNanoDuration, connectors.DebeziumInterval:
		return "interval", true
	case connectors.DebeziumUUID:
		return "uuid", true
	case connectors.DebeziumJSON:
		return "jsonb", true
	case connectors.DebeziumXML:
		return "xml", true
	case connectors.DebeziumEnum, connectors.DebeziumEnumSet, connectors.DebeziumLtree:
		return "text", true
	case connectors.DebeziumBits:
		if l, ok := s.Parameter("length"); ok {
			if n, err := strconv.Atoi(l); err == nil && n > 0 {
				return "bit varying(" + l + ")", true
			}
		}
		return "bit varying", true
	case connectors.DebeziumVariableScaleDecimal:
		return "numeric", true
	case connectors.DebeziumGeometry, connectors.DebeziumGeography:
		return "bytea", true
	case connectors.DebeziumPoint:
		return "point", true
	}
	switch s.Type() {
	case connectors.TypeInt8, connectors.TypeInt16:
		return "smallint", true
	case connectors.TypeInt32:
		return "integer", true
	case connectors.TypeInt64:
		return "bigint", true
	case connectors.TypeFloat32:
		return "real", true
	case connectors.TypeFloat64:
		return "double precision", true
	case connectors.TypeBoolean:
		return "boolean", true
	case connectors.TypeString:
		return "text", true
	case connectors.TypeBytes:
		return "bytea", true
	case connectors.TypeArray:
		es := s.ValueSchema()
		if es != nil && (es.Type().IsPrimitive() || es.Name() != "") && es.Type() != connectors.TypeArray {
			if et, ok := columnType(es, nil); ok && !strings.HasSuffix(et, "]") && et != "jsonb" && et != "xml" && et != "point" {
				return et + "[]", true
			}
		}
		return "jsonb", true
	case connectors.TypeMap, connectors.TypeStruct:
		return "jsonb", true
	}
	return "", false
}

// propagatedType uses Debezium's source column type parameters where
// they name a PostgreSQL type that keeps the data exactly (varchar(n),
// char(n), numeric(p,s)).
func propagatedType(s *connectors.Schema) (string, bool) {
	t, ok := s.Parameter(paramSourceType)
	if !ok {
		return "", false
	}
	length, _ := s.Parameter(paramSourceLength)
	scale, _ := s.Parameter(paramSourceScale)
	n, err := strconv.Atoi(length)
	valid := err == nil && n > 0 && n < 10_485_760
	switch strings.ToUpper(t) {
	case "VARCHAR", "CHARACTER VARYING":
		if valid && s.Type() == connectors.TypeString {
			return "varchar(" + length + ")", true
		}
	case "BPCHAR", "CHAR", "CHARACTER":
		if valid && s.Type() == connectors.TypeString {
			return "char(" + length + ")", true
		}
	case "NUMERIC", "DECIMAL":
		if s.Name() == connectors.DecimalLogicalName && valid && n <= 1000 {
			if sc, err := strconv.Atoi(scale); err == nil && sc >= 0 && sc <= n {
				return "numeric(" + length + "," + scale + ")", true
			}
		}
	case "JSON":
		if s.Type() == connectors.TypeString {
			return "json", true
		}
	case "INET", "CIDR", "MACADDR", "MACADDR8", "TSVECTOR", "CITEXT":
		if s.Type() == connectors.TypeString {
			return strings.ToLower(t), true
		}
	}
	return "", false
}

// dynamicType types a schemaless value (JSON without schemas).
func dynamicType(v any) string {
	switch x := v.(type) {
	case bool:
		return "boolean"
	case int8, int16, int32, int64, int, uint8, uint16, uint32:
		return "bigint"
	case float32, float64:
		return "double precision"
	case []byte:
		return "bytea"
	case connectors.Decimal:
		return "numeric"
	case time.Time:
		return "timestamp with time zone"
	case []any:
		var et string
		for _, e := range x {
			if e == nil {
				continue
			}
			t := dynamicType(e)
			if et != "" && t != et {
				return "jsonb"
			}
			et = t
		}
		if et == "" || et == "jsonb" || strings.HasSuffix(et, "]") {
			return "jsonb"
		}
		return et + "[]"
	case map[string]any, map[any]any, *connectors.Struct:
		return "jsonb"
	}
	return "text"
}

// defaultLiteral renders a schema default as an SQL literal for
// CREATE/ALTER, for the simple types; "" when there is none.
func defaultLiteral(s *connectors.Schema) string {
	if s == nil || s.Default() == nil || s.Name() != "" {
		return ""
	}
	switch d := s.Default().(type) {
	case bool:
		return strconv.FormatBool(d)
	case int8, int16, int32, int64:
		n, _ := asInt64(d)
		return strconv.FormatInt(n, 10)
	case float32:
		return quoteLiteral(strconv.FormatFloat(float64(d), 'g', -1, 32))
	case float64:
		return quoteLiteral(strconv.FormatFloat(d, 'g', -1, 64))
	case string:
		return quoteLiteral(d)
	}
	return ""
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// createTableSQL builds CREATE TABLE IF NOT EXISTS for cols (all of them
// nullable unless the schema is required or the column is a key column),
// with the primary key.
func createTableSQL(t *tableID, cols []ddlColumn, pk []string, q quoter) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(t.sql(q))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(q.ident(c.name))
		b.WriteByte(' ')
		b.WriteString(c.typ)
		if c.def != "" {
			b.WriteString(" DEFAULT ")
			b.WriteString(c.def)
		}
		if c.notNull {
			b.WriteString(" NOT NULL")
		}
	}
	if len(pk) > 0 {
		b.WriteString(", PRIMARY KEY (")
		for i, p := range pk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(q.ident(p))
		}
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String()
}

// addColumnSQL builds ALTER TABLE … ADD COLUMN IF NOT EXISTS for one
// column, always nullable (existing rows have no value).
func addColumnSQL(t *tableID, c ddlColumn, q quoter) string {
	s := "ALTER TABLE " + t.sql(q) + " ADD COLUMN IF NOT EXISTS " + q.ident(c.name) + " " + c.typ
	if c.def != "" {
		s += " DEFAULT " + c.def
	}
	return s
}

// ddlColumn is a column to create.
type ddlColumn struct {
	name    string // resolved (folded) column name
	typ     string
	def     string
	notNull bool
}
