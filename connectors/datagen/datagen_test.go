package datagen

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/connectors/conformance"
)

func config(quickstart string, extra ...string) map[string]string {
	c := map[string]string{
		"name": "datagen-" + quickstart, "connector.class": "datagen", "tasks.max": "1",
		"kafka.topic": quickstart, "quickstart": quickstart, "max.interval": "0", "random.seed": "42",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i]] = extra[i+1]
	}
	return c
}

func TestConformance(t *testing.T) {
	for _, q := range QuickstartNames() {
		t.Run(q, func(t *testing.T) {
			conformance.RunSource(t, conformance.SourceSuite{
				Connector: func() connectors.SourceConnector { return new(Connector) },
				Config:    func(*testing.T) map[string]string { return config(q, "batch.size", "7") },
			})
		})
	}
}

func open(t *testing.T, cfg map[string]string, offsets connectors.OffsetReader) *Source {
	t.Helper()
	s := new(Source)
	if err := s.Open(context.Background(), connectors.SourceContext{Offsets: offsets}, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func poll(t *testing.T, s *Source) []connectors.Record {
	t.Helper()
	recs, err := s.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestSchemas(t *testing.T) {
	tests := []struct {
		quickstart string
		name       string
		fields     []string
		key        string
		keyType    connectors.Type
	}{
		{"orders", "ksql.orders", []string{"ordertime", "orderid", "itemid", "orderunits", "address"}, "orderid", connectors.TypeInt32},
		{"users", "ksql.users", []string{"registertime", "userid", "regionid", "gender"}, "userid", connectors.TypeString},
		{"pageviews", "ksql.pageviews", []string{"viewtime", "userid", "pageid"}, "viewtime", connectors.TypeInt64},
	}
	for _, tt := range tests {
		t.Run(tt.quickstart, func(t *testing.T) {
			s := open(t, config(tt.quickstart, "batch.size", "50"), nil)
			recs := poll(t, s)
			if len(recs) != 50 {
				t.Fatalf("got %d records, want 50", len(recs))
			}
			schema := recs[0].ValueSchema
			if schema.Name() != tt.name || schema.Type() != connectors.TypeStruct || schema.Optional() {
				t.Errorf("schema %v", schema)
			}
			var names []string
			for _, f := range schema.Fields() {
				names = append(names, f.Name())
			}
			if !slices.Equal(names, tt.fields) {
				t.Errorf("fields %v, want %v", names, tt.fields)
			}
			for i, r := range recs {
				if err := connectors.ValidateValue(r.ValueSchema, r.Value); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if r.Topic != tt.quickstart || r.KeySchema.Type() != tt.keyType {
					t.Errorf("record %d: topic %q key schema %v", i, r.Topic, r.KeySchema)
				}
				want, _ := r.Value.(*connectors.Struct).Get(tt.key)
				if r.Key != want {
					t.Errorf("record %d: key %v, want field %s = %v", i, r.Key, tt.key, want)
				}
			}
		})
	}
}

func TestOrdersValues(t *testing.T) {
	s := open(t, config("orders", "batch.size", "200"), nil)
	for i, r := range poll(t, s) {
		v := r.Value.(*connectors.Struct)
		get := func(name string) any { x, _ := v.Get(name); return x }
		if get("orderid") != int32(i) {
			t.Errorf("orderid %v, want %d (the iteration)", get("orderid"), i)
		}
		if ts := get("ordertime").(int64); ts < timeMin || ts > timeMax {
			t.Errorf("ordertime %d", ts)
		}
		if u := get("orderunits").(float64); u < 0.1 || u >= 10 {
			t.Errorf("orderunits %v", u)
		}
		if item := get("itemid").(string); !strings.HasPrefix(item, "Item_") || len(item) < 6 || len(item) > 8 {
			t.Errorf("itemid %q", item)
		}
		addr := get("address").(*connectors.Struct)
		zip, _ := addr.Get("zipcode")
		city, _ := addr.Get("city")
		if z := zip.(int64); z < 10000 || z > 99999 || !strings.HasPrefix(city.(string), "City_") {
			t.Errorf("address %v", addr)
		}
	}
}

func TestPageviewsViewtime(t *testing.T) {
	s := open(t, config("pageviews", "batch.size", "3"), nil)
	var got []any
	for _, r := range poll(t, s) {
		got = append(got, r.Key)
	}
	if want := []any{int64(1), int64(11), int64(21)}; !slices.Equal(got, want) {
		t.Errorf("viewtime keys %v, want %v", got, want)
	}
}

func TestOffsetsAndHeaders(t *testing.T) {
	cfg := config("users", "batch.size", "2", "task.id", "3")
	s := open(t, cfg, nil)
	recs := poll(t, s)
	for i, r := range recs {
		if !maps.Equal(r.SourcePartition, map[string]any{"task.id": int64(3)}) {
			t.Errorf("partition %v", r.SourcePartition)
		}
		want := map[string]any{"task.generation": int64(1), "current.iteration": int64(i + 1), "random.seed": int64(42)}
		if !maps.Equal(r.SourceOffset, want) {
			t.Errorf("offset %v, want %v", r.SourceOffset, want)
		}
		var hdrs []string
		for _, h := range r.Headers {
			if h.Schema != connectors.Int64Schema {
				t.Errorf("header %s schema %v", h.Key, h.Schema)
			}
			hdrs = append(hdrs, h.Key+"="+connectors.FormatValue(h.Value))
		}
		if want := []string{"task.generation=0", "task.id=3", "current.iteration=" + string(rune('0'+i))}; !slices.Equal(hdrs, want) {
			t.Errorf("headers %v, want %v", hdrs, want)
		}
	}
}

func keys(recs []connectors.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = connectors.FormatValue(r.Value)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	a := keys(poll(t, open(t, config("orders", "batch.size", "20"), nil)))
	b := keys(poll(t, open(t, config("orders", "batch.size", "20"), nil)))
	if !slices.Equal(a, b) {
		t.Error("same seed, same task: different data")
	}
	other := keys(poll(t, open(t, config("orders", "batch.size", "20", "task.id", "1"), nil)))
	if slices.Equal(a[:5], other[:5]) || a[0][:40] == other[0][:40] {
		t.Errorf("task 0 and task 1 produce the same data: %v", other[0])
	}
	seed := keys(poll(t, open(t, config("orders", "batch.size", "20", "random.seed", "43"), nil)))
	if slices.Equal(a, seed) {
		t.Error("different seeds, same data")
	}
}

// TestResumeWithoutSeed: with no random.seed, the seed drawn at the first
// start is kept in the offsets, so a restarted task continues its stream.
func TestResumeWithoutSeed(t *testing.T) {
	cfg := config("users", "batch.size", "10")
	delete(cfg, "random.seed")
	store := conformance.NewOffsetStore()
	first := open(t, cfg, store)
	all := append(poll(t, first), poll(t, first)...)
	if err := store.Store(all[:10]); err != nil {
		t.Fatal(err)
	}
	second := open(t, cfg, store)
	rest := poll(t, second)
	if !slices.Equal(keys(rest), keys(all[10:])) {
		t.Errorf("resumed stream differs:\n%v\n%v", keys(rest), keys(all[10:]))
	}
	if g := rest[0].SourceOffset["task.generation"]; g != int64(2) {
		t.Errorf("generation after a restart: %v, want 2", g)
	}
}

func TestIterations(t *testing.T) {
	cfg := config("orders", "batch.size", "10", "iterations", "25")
	store := conformance.NewOffsetStore()
	s := open(t, cfg, store)
	var sizes []int
	for {
		recs, err := s.Poll(context.Background())
		if errors.Is(err, connectors.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(recs))
		if len(sizes) == 2 {
			if err := store.Store(recs); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Errorf("batch sizes %v, want [10 10 5]", sizes)
	}
	// A restart after 20 stored records produces the last 5, then ends.
	s2 := open(t, cfg, store)
	if recs := poll(t, s2); len(recs) != 5 || recs[0].Key != int32(20) {
		t.Errorf("after restart: %d records, first key %v", len(recs), recs[0].Key)
	}
	if _, err := s2.Poll(context.Background()); !errors.Is(err, connectors.ErrEndOfInput) {
		t.Errorf("err = %v, want ErrEndOfInput", err)
	}
}

func TestMaxInterval(t *testing.T) {
	s := open(t, config("pageviews", "max.interval", "1"), nil)
	if recs := poll(t, s); len(recs) != 1 {
		t.Errorf("max.interval>0: %d records per poll, want 1", len(recs))
	}
	slow := open(t, config("pageviews", "max.interval", "3600000"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if recs, err := slow.Poll(ctx); err != nil || len(recs) != 0 {
			t.Errorf("cancelled poll: %v %v", recs, err)
		}
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Poll ignored cancellation")
	}
}

func TestKeyField(t *testing.T) {
	s := open(t, config("orders", "schema.keyfield", "itemid", "batch.size", "1"), nil)
	r := poll(t, s)[0]
	item, _ := r.Value.(*connectors.Struct).Get("itemid")
	if r.KeySchema != connectors.StringSchema || r.Key != item {
		t.Errorf("key %v (%v), want itemid %v", r.Key, r.KeySchema, item)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]string
		want   []string
	}{
		{"missing", map[string]string{}, []string{
			`Missing required configuration "kafka.topic" which has no default value.`,
			`Missing required configuration "quickstart" which has no default value.`}},
		{"unknown quickstart", config("clickstream"), []string{"Invalid value clickstream for configuration quickstart: String must be one of: orders, pageviews, users"}},
		{"custom schema", config("orders", "schema.filename", "/x.avsc"), []string{"schema.filename is not supported by Sluice's datagen"}},
		{"bad key field", config("orders", "schema.keyfield", "address"), []string{"Invalid value address for configuration schema.keyfield: Not a primitive field of quickstart orders; fields: ordertime, orderid, itemid, orderunits"}},
		{"negative interval", config("orders", "max.interval", "-1"), []string{"max.interval: Value must be at least 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := new(Connector).Start(context.Background(), connectors.ConnectorContext{}, tt.config)
			if !errors.Is(err, connectors.ErrInvalidConfig) {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// REST validation reports the same problems.
			var msgs []string
			for _, v := range new(Connector).ValidateConfig(context.Background(), tt.config) {
				msgs = append(msgs, v.Errors...)
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.Join(msgs, "\n"), w) {
					t.Errorf("ValidateConfig %q lacks %q", msgs, w)
				}
			}
		})
	}
	if _, err := ParseConfig(config("ORDERS")); err != nil {
		t.Errorf("quickstart is case-insensitive, as datagen: %v", err)
	}
}

func TestTaskConfigs(t *testing.T) {
	c := new(Connector)
	cfg := config("orders")
	if err := c.Start(context.Background(), connectors.ConnectorContext{}, cfg); err != nil {
		t.Fatal(err)
	}
	tcs, _ := c.TaskConfigs(3)
	for i, tc := range tcs {
		if tc["task.id"] != string(rune('0'+i)) || tc["quickstart"] != "orders" {
			t.Errorf("task %d config %v", i, tc)
		}
	}
	if len(tcs) != 3 {
		t.Errorf("%d task configs, want 3", len(tcs))
	}
}

// BenchmarkPoll measures generation alone: one Poll of batch.size=1000
// orders per iteration of the inner loop; reports records/s.
func BenchmarkPoll(b *testing.B) {
	for _, q := range QuickstartNames() {
		b.Run(q, func(b *testing.B) {
			s := new(Source)
			if err := s.Open(context.Background(), connectors.SourceContext{}, config(q, "batch.size", "1000")); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				recs, err := s.Poll(ctx)
				if err != nil {
					b.Fatal(err)
				}
				n += len(recs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
		})
	}
}
