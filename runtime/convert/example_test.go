package convert_test

import (
	"fmt"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/convert"
)

// A source builds a keyed record value; the runtime serialises it with
// the JSON converter exactly as Kafka Connect would.
func ExampleJSONConverter() {
	key := connectors.StructSchema().Name("dbserver1.inventory.customers.Key").
		Field("id", connectors.Int32Schema).
		MustBuild()
	st, err := connectors.StructOf(key, int32(1004))
	if err != nil {
		panic(err)
	}
	conv := convert.NewJSONConverter()
	if err := conv.Configure(map[string]string{"schemas.enable": "true"}, true); err != nil {
		panic(err)
	}
	b, err := conv.FromConnect("dbserver1.inventory.customers", key, st)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))

	schema, value, _ := conv.ToConnect("dbserver1.inventory.customers", b)
	id, _ := value.(*connectors.Struct).Get("id")
	fmt.Println(schema.Name(), id)
	// Output:
	// {"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1004}}
	// dbserver1.inventory.customers.Key 1004
}
