package plugins

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/connectors/datagen"
	"github.com/sluicedata/sluice/connectors/file"
	"github.com/sluicedata/sluice/connectors/jdbc"
	"github.com/sluicedata/sluice/connectors/postgres"
	"github.com/sluicedata/sluice/plugins/configprovider"
	"github.com/sluicedata/sluice/runtime/convert"
	"github.com/sluicedata/sluice/transforms"
)

func TestLookup(t *testing.T) {
	r := Builtin()
	const (
		sink   = file.SinkClass
		source = file.SourceClass
		json   = JSONConverterClass
	)
	tests := []struct {
		name      string
		kinds     []Kind
		wantClass string
		wantKind  Kind
	}{
		// Every form of Kafka's quickstart names.
		{"org.apache.kafka.connect.file.FileStreamSinkConnector", nil, sink, KindSink},
		{"FileStreamSinkConnector", nil, sink, KindSink},
		{"FileStreamSink", nil, sink, KindSink},
		{"file-sink", nil, sink, KindSink},
		{"FileStreamSource", []Kind{KindSource, KindSink}, source, KindSource},
		{"FileStreamSourceConnector", []Kind{KindSource}, source, KindSource},
		{"org.apache.kafka.connect.file.FileStreamSourceConnector", nil, source, KindSource},
		// datagen: Confluent's class, its derived aliases, Sluice's alias.
		{"io.confluent.kafka.connect.datagen.DatagenConnector", nil, datagen.Class, KindSource},
		{"DatagenConnector", nil, datagen.Class, KindSource},
		{"Datagen", nil, datagen.Class, KindSource},
		{"datagen", []Kind{KindSource}, datagen.Class, KindSource},
		// Converters: one class, two kinds; the kind asked for decides.
		{"org.apache.kafka.connect.json.JsonConverter", nil, json, KindConverter},
		{"JsonConverter", []Kind{KindConverter}, json, KindConverter},
		{"Json", []Kind{KindConverter}, json, KindConverter},
		{"json", []Kind{KindHeaderConverter}, json, KindHeaderConverter},
		{"JsonConverter", []Kind{KindHeaderConverter}, json, KindHeaderConverter},
		{"StringConverter", []Kind{KindConverter}, StringConverterClass, KindConverter},
		{"String", []Kind{KindConverter}, StringConverterClass, KindConverter},
		{"ByteArrayConverter", nil, ByteArrayConverterClass, KindConverter},
		{"SimpleHeaderConverter", nil, SimpleHeaderConverterClass, KindHeaderConverter},
		{"Simple", []Kind{KindHeaderConverter}, SimpleHeaderConverterClass, KindHeaderConverter},
		// Transforms and predicates.
		{"org.apache.kafka.connect.transforms.InsertField$Value", nil, "org.apache.kafka.connect.transforms.InsertField$Value", KindTransformation},
		{"InsertField$Value", []Kind{KindTransformation}, "org.apache.kafka.connect.transforms.InsertField$Value", KindTransformation},
		{"insert-field-value", nil, "org.apache.kafka.connect.transforms.InsertField$Value", KindTransformation},
		{"unwrap", nil, "io.debezium.transforms.ExtractNewRecordState", KindTransformation},
		{"TopicNameMatches", []Kind{KindPredicate}, "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", KindPredicate},
		// Config providers: derived aliases and Sluice's short names.
		{"FileConfigProvider", nil, configprovider.FileClass, KindConfigProvider},
		{"EnvVar", nil, configprovider.EnvVarClass, KindConfigProvider},
		{"directory", []Kind{KindConfigProvider}, configprovider.DirectoryClass, KindConfigProvider},
	}
	for _, tt := range tests {
		p, err := r.Lookup(tt.name, tt.kinds...)
		if err != nil {
			t.Errorf("Lookup(%q, %v): %v", tt.name, tt.kinds, err)
			continue
		}
		if p.Class != tt.wantClass || p.Kind != tt.wantKind {
			t.Errorf("Lookup(%q, %v) = %s (%s), want %s (%s)", tt.name, tt.kinds, p.Class, p.Kind, tt.wantClass, tt.wantKind)
		}
	}
}

func TestLookupNotFound(t *testing.T) {
	r := Builtin()
	for _, tt := range []struct {
		name  string
		kinds []Kind
	}{
		{"Value", nil},                         // simple name of every $Value transform: ambiguous, as in Kafka
		{"Key", nil},                           // likewise
		{"FileStreamSink", []Kind{KindSource}}, // exists, wrong kind
		{"json", []Kind{KindSource, KindSink}},
		{"filestreamsink", nil}, // names are case-sensitive, as in Kafka
		{"Nope", nil},
	} {
		_, err := r.Lookup(tt.name, tt.kinds...)
		var nf *NotFoundError
		if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || nf.Name != tt.name {
			t.Errorf("Lookup(%q, %v): err = %v, want a NotFoundError", tt.name, tt.kinds, err)
		}
	}
}

func TestNotFoundMessage(t *testing.T) {
	_, err := Builtin().Lookup("FileStreamSinkk", KindSource, KindSink)
	want := "Failed to find any class that implements Connector and which name matches FileStreamSinkk, available connectors are: " +
		"PluginDesc{klass=class io.confluent.connect.jdbc.JdbcSinkConnector, name='io.confluent.connect.jdbc.JdbcSinkConnector', version='" + SluiceVersion + "', encodedVersion=" + SluiceVersion + ", type=sink, typeName='sink', location='builtin'}" + ", " +
		"PluginDesc{klass=class io.debezium.connector.jdbc.JdbcSinkConnector, name='io.debezium.connector.jdbc.JdbcSinkConnector', version='" + SluiceVersion + "', encodedVersion=" + SluiceVersion + ", type=sink, typeName='sink', location='builtin'}" + ", " +
		"PluginDesc{klass=class org.apache.kafka.connect.file.FileStreamSinkConnector, name='org.apache.kafka.connect.file.FileStreamSinkConnector', version='" + KafkaVersion + "', encodedVersion=" + KafkaVersion + ", type=sink, typeName='sink', location='builtin'}" + ", " +
		"PluginDesc{klass=class io.confluent.kafka.connect.datagen.DatagenConnector, name='io.confluent.kafka.connect.datagen.DatagenConnector', version='" + SluiceVersion + "', encodedVersion=" + SluiceVersion + ", type=source, typeName='source', location='builtin'}" + ", " +
		"PluginDesc{klass=class io.debezium.connector.postgresql.PostgresConnector, name='io.debezium.connector.postgresql.PostgresConnector', version='" + SluiceVersion + "', encodedVersion=" + SluiceVersion + ", type=source, typeName='source', location='builtin'}" + ", " +
		"PluginDesc{klass=class org.apache.kafka.connect.file.FileStreamSourceConnector, name='org.apache.kafka.connect.file.FileStreamSourceConnector', version='" + KafkaVersion + "', encodedVersion=" + KafkaVersion + ", type=source, typeName='source', location='builtin'}"
	if err == nil || err.Error() != want {
		t.Errorf("message:\n%v\nwant:\n%s", err, want)
	}
	_, err = Builtin().Lookup("Avro", KindConverter)
	if err == nil || !strings.HasPrefix(err.Error(), "Failed to find any class that implements Converter and which name matches Avro, available converters are: PluginDesc{klass=class org.apache.kafka.connect.converters.ByteArrayConverter") {
		t.Errorf("converter message: %v", err)
	}
}

func TestListOrder(t *testing.T) {
	r := Builtin()
	all := r.List()
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Kind.order() > b.Kind.order() || (a.Kind == b.Kind && a.Class >= b.Class) {
			t.Errorf("List: %s %s before %s %s", a.Kind, a.Class, b.Kind, b.Class)
		}
	}
	var kinds []Kind
	for _, p := range all {
		if len(kinds) == 0 || kinds[len(kinds)-1] != p.Kind {
			kinds = append(kinds, p.Kind)
		}
	}
	if !slices.Equal(kinds, Kinds()) {
		t.Errorf("kinds in order %v, want %v", kinds, Kinds())
	}
	var got []string
	for _, p := range r.List(ConnectorKinds()...) {
		got = append(got, string(p.Kind)+" "+p.Class)
	}
	want := []string{"sink " + jdbc.ConfluentClass, "sink " + jdbc.DebeziumClass, "sink " + file.SinkClass,
		"source " + datagen.Class, "source " + postgres.ClassName, "source " + file.SourceClass}
	if !slices.Equal(got, want) {
		t.Errorf("connectors: %v, want %v", got, want)
	}
	for _, p := range r.List(RESTKinds()...) {
		if p.Kind == KindConfigProvider {
			t.Errorf("RESTKinds lists config provider %s", p.Class)
		}
	}
	if n := len(r.List(KindHeaderConverter)); n != 4 {
		t.Errorf("%d header converters, want 4", n)
	}
}

// TestBuiltinsConstruct: every built-in constructs an instance of its
// kind, with a config definition where it has one.
func TestBuiltinsConstruct(t *testing.T) {
	for _, p := range Builtin().List() {
		inst := p.New()
		var ok bool
		switch p.Kind {
		case KindSource:
			_, ok = inst.(connectors.SourceConnector)
		case KindSink:
			_, ok = inst.(connectors.SinkConnector)
		case KindConverter:
			_, ok = inst.(convert.Converter)
		case KindHeaderConverter:
			_, ok = inst.(convert.HeaderConverter)
		case KindTransformation:
			_, ok = inst.(transforms.Transformation)
		case KindPredicate:
			_, ok = inst.(transforms.Predicate)
		case KindConfigProvider:
			_, ok = inst.(configprovider.ConfigProvider)
		}
		if !ok {
			t.Errorf("%s (%s): New returns %T", p.Class, p.Kind, inst)
		}
		if p.Kind != KindConfigProvider && (p.Config == nil || p.Config() == nil) {
			t.Errorf("%s (%s): no config definition", p.Class, p.Kind)
		}
		if p.Version == "" {
			t.Errorf("%s: no version", p.Class)
		}
	}
}

func TestNewHelpers(t *testing.T) {
	r := Builtin()
	c, p, err := r.NewConnector("FileStreamSource")
	if _, ok := c.(*file.SourceConnector); !ok || err != nil || p.Kind != KindSource {
		t.Errorf("NewConnector: %T %v %v", c, p.Kind, err)
	}
	if cv, err := r.NewConverter("json"); err != nil {
		t.Errorf("NewConverter: %v", err)
	} else if _, ok := cv.(*convert.JSONConverter); !ok {
		t.Errorf("NewConverter(json) = %T", cv)
	}
	if hc, err := r.NewHeaderConverter("StringConverter"); err != nil || hc == nil {
		t.Errorf("NewHeaderConverter: %v", err)
	}
	if _, err := r.NewTransformation("InsertField$Value"); err != nil {
		t.Errorf("NewTransformation: %v", err)
	}
	if _, err := r.NewPredicate("has-header-key"); err != nil {
		t.Errorf("NewPredicate: %v", err)
	}
	if _, err := r.NewTransformation("TopicNameMatches"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a predicate as transformation: %v", err)
	}
	if _, err := r.NewConverter("SimpleHeaderConverter"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a header converter as converter: %v", err)
	}
	// Instances are fresh on every call.
	a, _ := r.NewConverter("json")
	b, _ := r.NewConverter("json")
	if a == b {
		t.Error("NewConverter returned a shared instance")
	}
}

func TestConfigProvidersFromWorker(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.properties")
	if err := os.WriteFile(path, []byte("pw=secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := Builtin()
	ps, err := r.ConfigProviders(map[string]string{
		"config.providers":            "file,env",
		"config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
		"config.providers.env.class":  "EnvVarConfigProvider",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer configprovider.CloseAll(ps)
	out, err := configprovider.Resolve(map[string]string{"connection.password": "${file:" + path + ":pw}"}, ps)
	if err != nil || out["connection.password"] != "secret" {
		t.Errorf("Resolve = %v, %v", out, err)
	}
	if _, err := r.ConfigProviders(map[string]string{"config.providers": "v", "config.providers.v.class": "com.example.VaultConfigProvider"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown provider class: %v", err)
	}
}

type versioned struct{}

func (versioned) Version() string               { return "7.1" }
func (versioned) Config() *connectors.ConfigDef { return connectors.NewConfigDef() }

func TestRegister(t *testing.T) {
	r := New()
	newV := func() any { return versioned{} }
	if err := r.Register(Plugin{Class: "com.example.FooConnector", Kind: KindSource, New: newV, Aliases: []string{"foo"}}); err != nil {
		t.Fatal(err)
	}
	p, err := r.Lookup("Foo")
	if err != nil || p.Version != "7.1" || p.Config == nil {
		t.Errorf("registered plugin: %+v %v", p, err)
	}
	for _, tt := range []struct {
		p    Plugin
		want error
	}{
		{Plugin{Class: "com.example.FooConnector", Kind: KindSource, New: newV}, ErrDuplicate},
		{Plugin{Class: "com.example.BarConnector", Kind: KindSink, New: newV, Aliases: []string{"foo"}}, ErrDuplicate},
		{Plugin{Class: "com.example.BazConnector", Kind: KindSink, New: newV, Aliases: []string{"com.example.FooConnector"}}, ErrDuplicate},
		{Plugin{Class: "foo", Kind: KindSink, New: newV}, ErrDuplicate},
		{Plugin{Class: "", Kind: KindSink, New: newV}, ErrInvalidPlugin},
		{Plugin{Class: "x.Y", Kind: "connector", New: newV}, ErrInvalidPlugin},
		{Plugin{Class: "x.Y", Kind: KindSink}, ErrInvalidPlugin},
	} {
		if err := r.Register(tt.p); !errors.Is(err, tt.want) {
			t.Errorf("Register(%s %s %v): %v, want %v", tt.p.Class, tt.p.Kind, tt.p.Aliases, err, tt.want)
		}
	}
	// Same class, another kind: allowed, as JsonConverter in Kafka.
	if err := r.Register(Plugin{Class: "com.example.FooConnector", Kind: KindSink, New: newV}); err != nil {
		t.Errorf("second kind: %v", err)
	}
	// A derived alias shared by two classes resolves to neither.
	_ = r.Register(Plugin{Class: "org.other.FooConnector", Kind: KindSink, New: newV})
	if _, err := r.Lookup("FooConnector"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ambiguous FooConnector: %v", err)
	}
	if p, err := r.Lookup("foo", KindSink); err != nil || p.Class != "com.example.FooConnector" {
		t.Errorf("explicit alias still resolves: %v %v", p.Class, err)
	}
	if got := r.Aliases("com.example.FooConnector"); !slices.Equal(got, []string{"com.example.FooConnector", "foo"}) {
		t.Errorf("Aliases = %v", got)
	}
}

func TestScanPluginPath(t *testing.T) {
	dir := t.TempDir()
	touch := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touch(filepath.Join(dir, "connect-file-3.9.0.jar"))
	touch(filepath.Join(dir, "confluentinc-kafka-connect-datagen", "lib", "kafka-connect-datagen-0.6.5.jar"))
	touch(filepath.Join(dir, "acme-connector", "lib", "acme.jar"))
	touch(filepath.Join(dir, "README.txt"))
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	single := filepath.Join(t.TempDir(), "connect-transforms-3.9.0.jar")
	touch(single)

	rep := Builtin().ScanPluginPath(dir + ", " + single + ",/does/not/exist")
	byPath := map[string]*JavaPluginError{}
	for _, j := range rep.Java {
		byPath[j.Path] = j
		if !errors.Is(j, ErrJavaPlugin) {
			t.Errorf("%s: not ErrJavaPlugin", j.Path)
		}
	}
	if len(rep.Java) != 4 {
		t.Fatalf("Java plugins %v", rep.Java)
	}
	fileJar := byPath[filepath.Join(dir, "connect-file-3.9.0.jar")]
	if want := "plugin.path: " + fileJar.Path + ": Java plugins cannot run in Sluice; built-in equivalents: " + file.SinkClass + ", " + file.SourceClass; fileJar.Error() != want {
		t.Errorf("message %q\nwant %q", fileJar.Error(), want)
	}
	if dg := byPath[filepath.Join(dir, "confluentinc-kafka-connect-datagen")]; !slices.Equal(dg.Equivalents, []string{datagen.Class}) {
		t.Errorf("datagen equivalents %v", dg.Equivalents)
	}
	acme := byPath[filepath.Join(dir, "acme-connector")]
	if len(acme.Equivalents) != 0 || !strings.Contains(acme.Error(), "no built-in equivalent is known; built-in connectors: ") ||
		!strings.Contains(acme.Error(), file.SinkClass) {
		t.Errorf("unknown plugin: %v", acme)
	}
	if tr := byPath[single]; !slices.Contains(tr.Equivalents, "org.apache.kafka.connect.transforms.InsertField$Value") {
		t.Errorf("transforms jar equivalents %v", tr.Equivalents)
	}
	slices.Sort(rep.Other)
	if want := []string{filepath.Join(dir, "README.txt"), filepath.Join(dir, "empty")}; !slices.Equal(rep.Other, want) {
		t.Errorf("Other = %v, want %v", rep.Other, want)
	}
	if len(rep.Errors) != 1 || !errors.Is(rep.Errors[0], os.ErrNotExist) {
		t.Errorf("Errors = %v", rep.Errors)
	}
}
