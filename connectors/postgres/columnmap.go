package postgres

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// Column truncation and masking, as Debezium 3.4's ColumnMappers,
// TruncateColumn and MaskStrings (debezium-core relational/mapping) do:
//
//   - column.truncate.to.<n>.chars=<regexes>: a value column whose
//     Column.length() is unknown or greater than n gets the schema
//     parameter truncateLength=<n>, and its STRING values (UTF-16 code
//     units, as String.substring) and BYTES values longer than n are cut
//     to n; nulls and other values pass.
//   - column.mask.with.<n>.chars=<regexes>: every matched value column
//     gets the schema parameter masked=true; the values of character
//     columns (JDBC CHAR and VARCHAR: text, varchar, char(n), name,
//     "char", enums, and domains over them) become n '*', nulls included
//     (the mask converter runs on every value).
//
// The regexes (comma-separated) match "schema.table.column" whole and
// case-insensitively (Predicates.includes). The first matching rule
// applies: truncation rules before masking rules, each kind in key order.
// Keys are never truncated or masked (Debezium builds them without the
// mappers). Column hashing (column.mask.hash.*) is not implemented.

var (
	truncateKeyRe = regexp.MustCompile(`^column\.truncate\.to\.(\d+)\.chars$`)
	maskKeyRe     = regexp.MustCompile(`^column\.mask\.with\.(\d+)\.chars$`)
)

// ColumnMapper is one column.truncate.to.<n>.chars or
// column.mask.with.<n>.chars key.
type ColumnMapper struct {
	Key     string   // the config key
	Mask    bool     // masking, else truncation
	N       int      // <n>
	Columns []string // regular expressions over schema.table.column
	res     []*regexp.Regexp
}

// parseColumnMappers reads the truncation and masking keys of props, in
// Debezium's order, with a config error for each bad one.
func parseColumnMappers(props map[string]string) ([]ColumnMapper, connectors.ConfigErrors) {
	var out []ColumnMapper
	var errs connectors.ConfigErrors
	for k, v := range props {
		m := truncateKeyRe.FindStringSubmatch(k)
		mask := false
		if m == nil {
			m = maskKeyRe.FindStringSubmatch(k)
			mask = true
		}
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n > math.MaxInt32 {
			errs = append(errs, connectors.NewConfigError(k, v, "the number of characters must be an integer of at most 2147483647"))
			continue
		}
		cm := ColumnMapper{Key: k, Mask: mask, N: n}
		for _, re := range strings.Split(v, ",") {
			if re = strings.TrimSpace(re); re == "" {
				continue
			}
			c, err := regexp.Compile("(?i)^(?:" + re + ")$")
			if err != nil {
				errs = append(errs, connectors.NewConfigError(k, v, fmt.Sprintf("%q is not a valid regular expression: %v", re, err)))
				continue
			}
			cm.Columns = append(cm.Columns, re)
			cm.res = append(cm.res, c)
		}
		out = append(out, cm)
	}
	slices.SortFunc(out, func(a, b ColumnMapper) int {
		if a.Mask != b.Mask {
			if b.Mask {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, errs
}

// columnMapperFor returns the rule for column col of table t, or nil.
func columnMapperFor(rules []ColumnMapper, t tableID, col string) *ColumnMapper {
	if len(rules) == 0 {
		return nil
	}
	name := t.Schema + "." + t.Name + "." + col
	for i := range rules {
		for _, re := range rules[i].res {
			if re.MatchString(name) {
				return &rules[i]
			}
		}
	}
	return nil
}

// apply alters the value field's schema as the mapper's alterFieldSchema
// does and returns the value converter, nil when values pass unchanged.
func (cm *ColumnMapper) apply(b *connectors.SchemaBuilder, t *pgType, typmod int32) func(any) any {
	if cm.Mask {
		b.Parameter("masked", "true")
		if t == nil || !jdbcCharacterType(t) {
			return nil
		}
		mask := strings.Repeat("*", cm.N)
		return func(any) any { return mask }
	}
	if l := columnLength(t, typmod); l >= 0 && l <= int64(cm.N) {
		return nil
	}
	b.Parameter("truncateLength", strconv.Itoa(cm.N))
	n := cm.N
	return func(v any) any { return truncateValue(v, n) }
}

// truncateValue is TruncatingValueConverter.convert: strings longer than
// n UTF-16 code units and byte values longer than n bytes are cut to n.
func truncateValue(v any, n int) any {
	switch x := v.(type) {
	case string:
		if len(x) <= n {
			return x
		}
		units := 0
		for i, r := range x {
			w := 1
			if r >= 0x10000 {
				w = 2
			}
			if units+w > n {
				// Java may cut a surrogate pair in two; a lone surrogate
				// cannot be UTF-8, so the pair is left out whole.
				return x[:i]
			}
			units += w
		}
		return x
	case []byte:
		if len(x) > n {
			return x[:n:n]
		}
	}
	return v
}

// jdbcCharacterType reports whether pgjdbc reports t (a domain's base
// type) as a JDBC type MaskStrings masks: CHAR or VARCHAR.
func jdbcCharacterType(t *pgType) bool {
	switch t.OID {
	case oidText, oidVarchar, oidBpchar, oidName, oidChar:
		return true
	}
	return t.Kind == 'e'
}

// columnLength is Column.length() as Debezium's Postgres connector sets
// it: pgjdbc's TypeInfoCache.getPrecision (DatabaseMetaData.getColumns'
// COLUMN_SIZE, getDisplaySize when it is 0), for an array its element's;
// math.MaxInt32 (pgjdbc's unknownLength) for types without a length.
func columnLength(t *pgType, typmod int32) int64 {
	if t == nil {
		return math.MaxInt32
	}
	oid := t.OID
	if t.Category == 'A' && t.Elem != 0 {
		oid = t.Elem
	}
	frac := func() int64 {
		switch typmod {
		case -1:
			return 7
		case 0:
			return 0
		case 1:
			return 3
		}
		return int64(typmod) + 1
	}
	switch oid {
	case oidInt2:
		return 5
	case oidInt4, oidOID:
		return 10
	case oidInt8:
		return 19
	case oidFloat4:
		return 8
	case oidFloat8:
		return 17
	case oidNumeric:
		if typmod == -1 {
			return 131089
		}
		return int64((typmod-4)>>16) & 0xffff
	case oidChar, oidBool:
		return 1
	case oidBpchar, oidVarchar:
		if typmod == -1 {
			return math.MaxInt32
		}
		return int64(typmod) - 4
	case oidDate:
		return 13
	case oidTime:
		return 8 + frac()
	case oidTimetz:
		return 8 + frac() + 6
	case oidTimestamp:
		return 22 + frac()
	case oidTimestamptz:
		return 22 + frac() + 6
	case oidInterval:
		return 49
	case oidBit:
		return int64(typmod)
	case oidVarbit:
		if typmod == -1 {
			return math.MaxInt32
		}
		return int64(typmod)
	}
	return math.MaxInt32
}
