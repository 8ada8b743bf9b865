package datagen

import (
	"maps"
	"slices"
	"strconv"

	"github.com/sluicedata/sluice/connectors"
)

// quickstart is one data set: its value schema, the index of its default
// key field, and a generator filling a record's top-level values.
type quickstart struct {
	name     string
	schema   *connectors.Schema
	key      string // default key field
	generate func(r *rng, iter int64, vals []any)
}

// keyIndex returns the index of a top-level primitive field, or -1.
func (q *quickstart) keyIndex(name string) int {
	f, ok := q.schema.Field(name)
	if !ok || !f.Schema().Type().IsPrimitive() {
		return -1
	}
	return f.Index()
}

func (q *quickstart) primitiveFields() []string {
	var out []string
	for _, f := range q.schema.Fields() {
		if f.Schema().Type().IsPrimitive() {
			out = append(out, f.Name())
		}
	}
	return out
}

// QuickstartNames returns the built-in quickstarts, sorted.
func QuickstartNames() []string { return slices.Sorted(maps.Keys(quickstarts)) }

// QuickstartSchema returns the value schema of a quickstart, or nil.
func QuickstartSchema(name string) *connectors.Schema {
	if q, ok := quickstarts[name]; ok {
		return q.schema
	}
	return nil
}

// quickstarts is read-only after package initialisation.
var quickstarts = map[string]*quickstart{
	"orders":    ordersQuickstart(),
	"users":     usersQuickstart(),
	"pageviews": pageviewsQuickstart(),
}

// boxed returns prefix+s for each s, boxed once so records share them.
func boxed(prefix string, suffixes []string) []any {
	out := make([]any, len(suffixes))
	for i, s := range suffixes {
		out[i] = prefix + s
	}
	return out
}

// numbers returns from..to in decimal.
func numbers(from, to int) []string {
	out := make([]string, 0, to-from+1)
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// nonZeroDigits returns every string of 0 to maxLen digits 1-9, the
// matches of [1-9]{0,maxLen}.
func nonZeroDigits(maxLen int) []string {
	out := []string{""}
	prev := []string{""}
	for range maxLen {
		var next []string
		for _, p := range prev {
			for d := '1'; d <= '9'; d++ {
				next = append(next, p+string(d))
			}
		}
		out = append(out, next...)
		prev = next
	}
	return out
}

// Time ranges from datagen's schemas (February 2017 to February 2018).
const (
	timeMin = 1487715775521
	timeMax = 1519273364600
)

// ordersQuickstart is datagen's orders_schema.avro: key orderid.
func ordersQuickstart() *quickstart {
	address := connectors.StructSchema().Name("ksql.address").
		Field("city", connectors.StringSchema).
		Field("state", connectors.StringSchema).
		Field("zipcode", connectors.Int64Schema).
		MustBuild()
	schema := connectors.StructSchema().Name("ksql.orders").
		Field("ordertime", connectors.Int64Schema).
		Field("orderid", connectors.Int32Schema).
		Field("itemid", connectors.StringSchema).
		Field("orderunits", connectors.Float64Schema).
		Field("address", address).
		MustBuild()
	items := boxed("Item_", numbers(1, 999))    // Item_[1-9][0-9]{0,2}
	cities := boxed("City_", nonZeroDigits(2))  // City_[1-9]{0,2}
	states := boxed("State_", nonZeroDigits(2)) // State_[1-9]{0,2}
	addrFields := address.Fields()
	return &quickstart{name: "orders", schema: schema, key: "orderid", generate: func(r *rng, iter int64, vals []any) {
		vals[0] = r.between(timeMin, timeMax)
		vals[1] = int32(iter)
		vals[2] = items[r.intn(len(items))]
		vals[3] = r.float(0.1, 10.0)
		a := connectors.NewStruct(address)
		mustPut(a, addrFields[0], cities[r.intn(len(cities))])
		mustPut(a, addrFields[1], states[r.intn(len(states))])
		mustPut(a, addrFields[2], r.between(10000, 99999))
		vals[4] = a
	}}
}

// usersQuickstart is datagen's users_schema.avro: key userid.
func usersQuickstart() *quickstart {
	schema := connectors.StructSchema().Name("ksql.users").
		Field("registertime", connectors.Int64Schema).
		Field("userid", connectors.StringSchema).
		Field("regionid", connectors.StringSchema).
		Field("gender", connectors.StringSchema).
		MustBuild()
	users := boxed("User_", numbers(1, 9))     // User_[1-9]
	regions := boxed("Region_", numbers(1, 9)) // Region_[1-9]
	genders := boxed("", []string{"MALE", "FEMALE", "OTHER"})
	return &quickstart{name: "users", schema: schema, key: "userid", generate: func(r *rng, _ int64, vals []any) {
		vals[0] = r.between(timeMin, timeMax)
		vals[1] = users[r.intn(len(users))]
		vals[2] = regions[r.intn(len(regions))]
		vals[3] = genders[r.intn(len(genders))]
	}}
}

// pageviewsQuickstart is datagen's pageviews_schema.avro: key viewtime,
// which counts 1, 11, 21, … per task.
func pageviewsQuickstart() *quickstart {
	schema := connectors.StructSchema().Name("ksql.pageviews").
		Field("viewtime", connectors.Int64Schema).
		Field("userid", connectors.StringSchema).
		Field("pageid", connectors.StringSchema).
		MustBuild()
	users := boxed("User_", numbers(1, 9))   // User_[1-9]
	pages := boxed("Page_", numbers(10, 99)) // Page_[1-9][0-9]
	return &quickstart{name: "pageviews", schema: schema, key: "viewtime", generate: func(r *rng, iter int64, vals []any) {
		vals[0] = 1 + 10*iter
		vals[1] = users[r.intn(len(users))]
		vals[2] = pages[r.intn(len(pages))]
	}}
}

// mustPut puts a value the generator made for the field's own schema;
// failure is a bug in this file.
func mustPut(s *connectors.Struct, f connectors.Field, v any) {
	if err := s.PutField(f, v); err != nil {
		panic(err)
	}
}
