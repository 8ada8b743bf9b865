package connectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, after compacting both when they
// are JSON. With -update it writes got instead.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		var out bytes.Buffer
		if json.Indent(&out, got, "", "  ") == nil {
			got = append(out.Bytes(), '\n')
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cw, cg bytes.Buffer
	if json.Compact(&cw, want) == nil && json.Compact(&cg, got) == nil {
		want, got = cw.Bytes(), cg.Bytes()
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch\n got: %s\nwant: %s", name, got, want)
	}
}

func TestParseReportsEveryError(t *testing.T) {
	t.Parallel()
	props := map[string]string{
		"name":                 "",
		"tasks.max":            "abc",
		"errors.retry.timeout": "1.5",
		"errors.tolerance":     "foo",
		"errors.log.enable":    "yes",
		"my.own.key":           "kept",
	}
	_, err := SinkConfigDef().Parse(props)
	var errs ConfigErrors
	if !errors.As(err, &errs) || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Parse() error = %T %v", err, err)
	}
	want := []string{
		"Invalid value  for configuration name: String may not be empty",
		`Missing required configuration "connector.class" which has no default value.`,
		"Invalid value abc for configuration tasks.max: Not a number of type INT",
		"Invalid value 1.5 for configuration errors.retry.timeout: Not a number of type LONG",
		"Invalid value foo for configuration errors.tolerance: String must be one of: none, all",
		"Invalid value yes for configuration errors.log.enable: Expected value to be either true or false",
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Message)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Fatalf("Error() = %q", err.Error())
	}
	var one *ConfigError
	if !errors.As(err, &one) || one.Name != "name" {
		t.Fatalf("errors.As(*ConfigError) = %v", one)
	}
}

func TestParseTypedValues(t *testing.T) {
	t.Parallel()
	def := NewConfigDef().
		Define(ConfigKey{Name: "b", Type: ConfigBoolean, Default: false, Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "s", Type: ConfigString, Default: "dflt", Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "i", Type: ConfigInt, Default: 3, Validator: Between(1, 10), Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "sh", Type: ConfigShort, Default: "3", Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "l", Type: ConfigLong, Default: int64(1) << 40, Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "d", Type: ConfigDouble, Default: 0.5, Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "list", Type: ConfigList, Default: "a, b", Validator: ListOf("a", "b", "c"), Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "cls", Type: ConfigClass, Importance: ImportanceLow}).
		Define(ConfigKey{Name: "pw", Type: ConfigPassword, Required: true, Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "mode", Type: ConfigString, Default: "fast", Validator: OneOfIgnoreCase("fast", "slow"), Importance: ImportanceLow})
	cfg, err := def.Parse(map[string]string{
		"b": " TRUE ", "i": "7", "list": "c ,a", "pw": "s3cret", "mode": "SLOW", "extra": "x", "pre.fix.k": "v",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Bool("b") || cfg.String("s") != "dflt" || cfg.Int("i") != 7 || cfg.Short("sh") != 3 ||
		cfg.Long("l") != 1<<40 || cfg.Double("d") != 0.5 || cfg.String("cls") != "" || cfg.String("mode") != "SLOW" {
		t.Fatalf("typed getters wrong: %v", cfg.values)
	}
	if got := cfg.List("list"); !slices.Equal(got, []string{"c", "a"}) {
		t.Fatalf("List = %q", got)
	}
	if got, _ := ParseConfigValue("l", " x, y ,", ConfigList); !slices.Equal(got.([]string), []string{"x", "y", ""}) {
		t.Fatalf("ParseConfigValue list = %q (Kafka keeps the trailing empty entry)", got)
	}
	if cfg.Password("pw").Value() != "s3cret" || fmt.Sprint(cfg.Password("pw")) != "[hidden]" {
		t.Fatal("password")
	}
	if !cfg.IsSet("b") || cfg.IsSet("s") || cfg.Originals()["extra"] != "x" || cfg.OriginalsWithPrefix("pre.fix.")["k"] != "v" {
		t.Fatal("originals")
	}
	if got := def.UnknownKeys(cfg.Originals()); !slices.Equal(got, []string{"extra", "pre.fix.k"}) {
		t.Fatalf("UnknownKeys = %v", got)
	}
	_, err = def.Parse(map[string]string{"pw": "x", "i": "11", "list": "a,z", "mode": "medium"})
	want := "Invalid value 11 for configuration i: Value must be no more than 10\n" +
		"Invalid value z for configuration list: String must be one of: a, b, c\n" +
		"Invalid value medium for configuration mode: String must be one of (case insensitive): FAST, SLOW"
	if err == nil || err.Error() != want {
		t.Fatalf("Parse() error =\n%v\nwant\n%s", err, want)
	}
	_, err = def.Parse(map[string]string{})
	if err == nil || err.Error() != `Missing required configuration "pw" which has no default value.` {
		t.Fatalf("missing password error = %v", err)
	}
	if msg := NewConfigError("pw", NewPassword("x"), "bad").Error(); msg != "Invalid value [hidden] for configuration pw: bad" {
		t.Fatalf("password in message: %q", msg)
	}
}

func TestDefinePanicsOnBadDefinitions(t *testing.T) {
	t.Parallel()
	for name, k := range map[string]ConfigKey{
		"no type":       {Name: "a", Importance: ImportanceHigh},
		"no importance": {Name: "a", Type: ConfigInt},
		"bad default":   {Name: "a", Type: ConfigInt, Default: "x", Importance: ImportanceHigh},
		"invalid dflt":  {Name: "a", Type: ConfigInt, Default: 0, Validator: AtLeast(1), Importance: ImportanceHigh},
		"duplicate":     {Name: "dup", Type: ConfigInt, Importance: ImportanceHigh},
	} {
		t.Run(name, func(t *testing.T) {
			def := NewConfigDef().Define(ConfigKey{Name: "dup", Type: ConfigInt, Importance: ImportanceHigh})
			defer func() {
				if r := recover(); r == nil || !errors.Is(r.(error), ErrInvalidConfig) {
					t.Fatalf("recover() = %v", r)
				}
			}()
			def.Define(k)
		})
	}
}

func TestValidateLikeKafka(t *testing.T) {
	t.Parallel()
	vals := SinkConfigDef().Validate(map[string]string{"tasks.max": "abc", "topics": "a,b"})
	byName := map[string]ConfigValue{}
	for _, v := range vals {
		byName[v.Name] = v
	}
	// Kafka runs the validator on the null left by a failed parse.
	if got := byName["tasks.max"].Errors; !slices.Equal(got, []string{
		"Invalid value abc for configuration tasks.max: Not a number of type INT",
		"Invalid value null for configuration tasks.max: Value must be non-null",
	}) {
		t.Fatalf("tasks.max errors = %q", got)
	}
	if got := byName["name"].Errors; !slices.Equal(got, []string{`Missing required configuration "name" which has no default value.`}) {
		t.Fatalf("name errors = %q", got)
	}
	if v := byName["topics"].Value; !slices.Equal(v.([]string), []string{"a", "b"}) {
		t.Fatalf("topics value = %v", v)
	}
	if names := SinkConfigDef().Names(); len(vals) != len(names) || vals[0].Name != names[0] {
		t.Fatal("Validate must return one value per key in definition order")
	}
}

func TestValidateSinkTopics(t *testing.T) {
	t.Parallel()
	errsFor := func(props map[string]string) map[string][]string {
		out := map[string][]string{}
		for _, v := range ValidateSinkTopics(props, SinkConfigDef().Validate(props)) {
			if len(v.Errors) > 0 && (v.Name == KeyTopics || v.Name == KeyTopicsRegex) {
				out[v.Name] = v.Errors
			}
		}
		return out
	}
	base := map[string]string{"name": "s", "connector.class": "X"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	if got := errsFor(with()); !slices.Equal(got[KeyTopics], []string{"Must configure one of topics or topics.regex"}) ||
		!slices.Equal(got[KeyTopicsRegex], []string{"Must configure one of topics or topics.regex"}) {
		t.Fatalf("neither set: %v", got)
	}
	if got := errsFor(with("topics", "a", "topics.regex", "a.*")); !slices.Equal(got[KeyTopics], []string{"topics and topics.regex are mutually exclusive options, but both are set."}) {
		t.Fatalf("both set: %v", got)
	}
	if got := errsFor(with("topics", "a, dlq,a", "errors.deadletterqueue.topic.name", "dlq")); !slices.Equal(got[KeyTopics],
		[]string{"The DLQ topic 'dlq' may not be included in the list of topics ('topics=[a, dlq]') consumed by the connector"}) {
		t.Fatalf("dlq in topics: %v", got)
	}
	if got := errsFor(with("topics.regex", "d.*", "errors.deadletterqueue.topic.name", "dlq")); !slices.Equal(got[KeyTopicsRegex],
		[]string{"The DLQ topic 'dlq' may not be matched by the regex for the topics ('topics.regex=d.*') consumed by the connector"}) {
		t.Fatalf("dlq matched by regex: %v", got)
	}
	if got := errsFor(with("topics", "a")); len(got) != 0 {
		t.Fatalf("valid: %v", got)
	}
}

type fixedRecommender []any

func (f fixedRecommender) ValidValues(string, map[string]any) []any { return f }
func (f fixedRecommender) Visible(_ string, parsed map[string]any) bool {
	return parsed["mode"] == "custom"
}

func TestConfigInfosJSON(t *testing.T) {
	t.Parallel()
	def := NewConfigDef().
		Define(ConfigKey{Name: "connection.url", Type: ConfigString, Required: true, Importance: ImportanceHigh,
			Doc: "Where to connect.", Group: "Connection", Order: 1, Width: WidthLong, DisplayName: "URL",
			Dependents: []string{"connection.password"}}).
		Define(ConfigKey{Name: "connection.password", Type: ConfigPassword, Default: "", Importance: ImportanceHigh,
			Group: "Connection", Order: 2, Width: WidthMedium}).
		Define(ConfigKey{Name: "mode", Type: ConfigString, Default: "bulk", Validator: OneOf("bulk", "custom"),
			Importance: ImportanceMedium, Doc: "Mode.", Group: "Mode", Order: 1}).
		Define(ConfigKey{Name: "columns", Type: ConfigList, Default: []string{"id", "ts"}, Importance: ImportanceLow,
			Group: "Mode", Order: 2, Recommender: fixedRecommender{"id", "ts", "name"}}).
		Define(ConfigKey{Name: "ratio", Type: ConfigDouble, Default: 1, Importance: ImportanceLow})
	props := map[string]string{"connection.password": "hunter2", "mode": "weird"}
	values := def.Validate(props)
	values = MergeConfigValues(values, ConfigValue{Name: "connector.specific", Value: "x", Errors: []string{"Unknown key"}, Visible: true})
	infos := NewConfigInfos("io.example.JdbcSourceConnector", def, values)
	if infos.ErrorCount != 3 {
		t.Fatalf("ErrorCount = %d, want 3", infos.ErrorCount)
	}
	got, err := json.Marshal(infos)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "config_infos.json", got)

	wantMsg := "Connector configuration is invalid and contains the following 3 error(s):\n" +
		"Unknown key\n" +
		`Missing required configuration "connection.url" which has no default value.` + "\n" +
		"Invalid value weird for configuration mode: String must be one of: bulk, custom\n" +
		"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
	if msg := infos.InvalidMessage(); msg != wantMsg {
		t.Fatalf("InvalidMessage() =\n%s", msg)
	}
}

func TestFrameworkKeyInfos(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(SinkConfigDef().KeyInfos())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sink_config_keys.json", got)
	got, err = json.Marshal(SourceConfigDef().KeyInfos())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "source_config_keys.json", got)
	if g := SourceConfigDef().Groups(); !slices.Equal(g, []string{"Common", "Transforms", "Predicates", "Error Handling", "Topic Creation", "Exactly Once Support", "offsets.topic"}) {
		t.Fatalf("source groups = %q", g)
	}
	// A valid minimal sink config parses with Kafka's defaults.
	cfg, err := SinkConfigDef().Parse(map[string]string{"name": "s", "connector.class": "FileStreamSink", "topics": "t"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Int(KeyTasksMax) != 1 || cfg.Long(KeyErrorsRetryMaxDelay) != 60000 || cfg.String(KeyErrorsTolerance) != "none" ||
		cfg.Short(KeyDLQReplicationFactor) != 3 || cfg.String(KeyKeyConverter) != "" || len(cfg.List(KeyTransforms)) != 0 {
		t.Fatal("framework defaults")
	}
	if _, err := CommonConfigDef().Parse(map[string]string{"name": "a\x01b", "connector.class": "X", "transforms": "a,b,a"}); err == nil ||
		!strings.Contains(err.Error(), "Invalid value a\x01b for configuration name: String may not contain control sequences but had the following ASCII chars: 1") ||
		!strings.Contains(err.Error(), "Invalid value [a, b, a] for configuration transforms: Duplicate alias provided.") {
		t.Fatalf("name/alias validation: %v", err)
	}
}

type upper struct{}

func (upper) Validate(name string, v any) error {
	if s, _ := v.(string); s != strings.ToUpper(s) {
		return NewConfigError(name, v, "must be upper case")
	}
	return nil
}
func (upper) String() string { return "upper case" }

func TestEmbed(t *testing.T) {
	t.Parallel()
	child := NewConfigDef().
		Define(ConfigKey{Name: "field", Type: ConfigString, Required: true, Validator: upper{}, Importance: ImportanceHigh}).
		Define(ConfigKey{Name: "replacement", Type: ConfigString, Default: "", Importance: ImportanceLow})
	def := CommonConfigDef().Embed("transforms.mask.", "Transforms: mask", 0, child)
	k, ok := def.Key("transforms.mask.field")
	if !ok || k.Group != "Transforms: mask" || k.Order != 0 || !k.Required || k.DisplayName != "field" {
		t.Fatalf("embedded key = %+v", k)
	}
	if k2, _ := def.Key("transforms.mask.replacement"); k2.Order != 1 {
		t.Fatalf("second embedded order = %d", k2.Order)
	}
	vals := def.Validate(map[string]string{"transforms.mask.field": "low"})
	for _, v := range vals {
		if v.Name == "transforms.mask.field" {
			// As in Kafka, the embedded validator sees the unprefixed name.
			if !slices.Equal(v.Errors, []string{"Invalid value low for configuration field: must be upper case"}) {
				t.Fatalf("errors = %q", v.Errors)
			}
			return
		}
	}
	t.Fatal("embedded key not validated")
}
