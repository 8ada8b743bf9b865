package configprovider

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicedata/sluice/connectors"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPlaceholders(t *testing.T) {
	got := Placeholders(map[string]string{
		"a": "x${file:/etc/s.properties:pw}y${env:HOME}",
		"b": "${a:b:c:d}",
		"c": "no ${placeholder here",
		"d": "${dir::key}",
	})
	want := []Placeholder{
		{ConfigKey: "a", Text: "${file:/etc/s.properties:pw}", Provider: "file", Path: "/etc/s.properties", Key: "pw"},
		{ConfigKey: "a", Text: "${env:HOME}", Provider: "env", Key: "HOME"},
		{ConfigKey: "b", Text: "${a:b:c:d}", Provider: "a", Path: "b", Key: "c:d"},
		{ConfigKey: "d", Text: "${dir::key}", Provider: "dir", Key: "key"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	props := filepath.Join(dir, "secrets.properties")
	writeFile(t, props, "db.user=alice\ndb.password=s3cr3t\n# comment\nurl = jdbc:pg://h/db\n")
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(secrets, "token"), "tok\n")

	env := &EnvVar{
		lookup:  func(k string) (string, bool) { v, ok := map[string]string{"REGION": "eu"}[k]; return v, ok },
		environ: func() []string { return []string{"REGION=eu"} },
	}
	providers := map[string]ConfigProvider{"file": new(File), "directory": new(Directory), "env": env}
	for _, p := range providers {
		if err := p.Configure(map[string]string{}); err != nil {
			t.Fatal(err)
		}
	}
	in := map[string]string{
		"connection.user":     "${file:" + props + ":db.user}",
		"connection.password": "${file:" + props + ":db.password}",
		"connection.url":      "${file:" + props + ":url}?region=${env:REGION}",
		"token":               "${directory:" + secrets + ":token}",
		"vault":               "${vault:secret/db:password}",
		"plain":               "topic",
	}
	got, err := Resolve(in, providers)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"connection.user":     "alice",
		"connection.password": "s3cr3t",
		"connection.url":      "jdbc:pg://h/db?region=eu",
		"token":               "tok\n", // content unchanged, as Kafka
		"vault":               "${vault:secret/db:password}",
		"plain":               "topic",
	}
	if !maps.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if in["connection.password"] == "s3cr3t" {
		t.Error("Resolve changed its input")
	}
}

func TestResolveMissingKeys(t *testing.T) {
	dir := t.TempDir()
	props := filepath.Join(dir, "s.properties")
	writeFile(t, props, "present=secretvalue\n")
	f := new(File)
	_ = f.Configure(nil)
	_, err := Resolve(map[string]string{
		"b": "${file:" + props + ":absent}",
		"a": "${file:" + props + ":present}${file:" + props + ":other}",
	}, map[string]ConfigProvider{"file": f})
	var mk *MissingKeysError
	if !errors.As(err, &mk) || !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("err = %v", err)
	}
	if len(mk.Missing) != 2 || mk.Missing[0].ConfigKey != "a" || mk.Missing[0].Key != "other" || mk.Missing[1].Key != "absent" {
		t.Errorf("missing = %+v", mk.Missing)
	}
	msg := err.Error()
	for _, s := range []string{"config a", "key other", "config b", "key absent", props, "provider file"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q lacks %q", msg, s)
		}
	}
	if strings.Contains(msg, "secretvalue") {
		t.Errorf("message %q leaks a resolved value", msg)
	}
}

func TestResolveProviderErrors(t *testing.T) {
	dir := t.TempDir()
	f := new(File)
	_ = f.Configure(nil)
	env := new(EnvVar)
	_ = env.Configure(nil)
	tests := []struct {
		name   string
		config map[string]string
		want   error
	}{
		{"unreadable file", map[string]string{"k": "${file:" + filepath.Join(dir, "nope") + ":x}"}, os.ErrNotExist},
		{"env with a path", map[string]string{"k": "${env:/x:HOME}"}, ErrUnsupportedPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.config, map[string]ConfigProvider{"file": f, "env": env})
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAllowedPaths(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	if err := os.Mkdir(ok, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(ok, "a.properties"), "k=v\n")
	writeFile(t, filepath.Join(dir, "b.properties"), "k=v\n")

	for _, p := range []ConfigProvider{new(File), new(Directory)} {
		err := p.Configure(map[string]string{KeyAllowedPaths: "relative/path"})
		if !errors.Is(err, connectors.ErrInvalidConfig) || !strings.Contains(err.Error(), "Path needs to be absolute and exist") {
			t.Errorf("%T relative allowed path: err = %v", p, err)
		}
	}
	f := new(File)
	if err := f.Configure(map[string]string{KeyAllowedPaths: ok}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Get(filepath.Join(ok, "a.properties"), "k"); err != nil || got["k"] != "v" {
		t.Errorf("allowed: %v %v", got, err)
	}
	for _, p := range []string{filepath.Join(dir, "b.properties"), filepath.Join(ok, "..", "b.properties"), ok + "x/a.properties"} {
		if _, err := f.Get(p, "k"); !errors.Is(err, ErrPathNotAllowed) {
			t.Errorf("Get(%s): err = %v, want ErrPathNotAllowed", p, err)
		}
	}
	d := new(Directory)
	_ = d.Configure(map[string]string{KeyAllowedPaths: ok})
	if _, err := d.Get(dir); !errors.Is(err, ErrPathNotAllowed) {
		t.Errorf("directory outside allowed.paths: %v", err)
	}
}

func TestDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "user"), "bob")
	writeFile(t, filepath.Join(dir, "pass"), "pw")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "pass"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	d := new(Directory)
	_ = d.Configure(nil)
	all, err := d.Get(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"user": "bob", "pass": "pw", "link": "pw"}; !maps.Equal(all, want) {
		t.Errorf("all = %v, want %v", all, want)
	}
	some, _ := d.Get(dir, "user", "sub", "missing")
	if want := map[string]string{"user": "bob"}; !maps.Equal(some, want) {
		t.Errorf("some = %v", some)
	}
	if got, err := d.Get(""); err != nil || len(got) != 0 {
		t.Errorf("empty path: %v %v", got, err)
	}
	if _, err := d.Get(filepath.Join(dir, "user")); err == nil {
		t.Error("a file as directory: no error")
	}
}

func TestEnvVar(t *testing.T) {
	t.Setenv("SLUICE_TEST_A", "1")
	t.Setenv("SLUICE_TEST_B", "2")
	t.Setenv("OTHER_SLUICE_TEST", "3")
	e := new(EnvVar)
	if err := e.Configure(map[string]string{KeyAllowlistPattern: "SLUICE_TEST_.*"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Get("", "SLUICE_TEST_A", "OTHER_SLUICE_TEST", "SLUICE_TEST_NOPE")
	if err != nil || !maps.Equal(got, map[string]string{"SLUICE_TEST_A": "1"}) {
		t.Errorf("Get = %v, %v", got, err)
	}
	all, _ := e.Get("")
	if all["SLUICE_TEST_B"] != "2" || all["OTHER_SLUICE_TEST"] != "" || all["PATH"] != "" {
		t.Errorf("all = %v", all)
	}
	if err := e.Configure(map[string]string{KeyAllowlistPattern: "("}); !errors.Is(err, connectors.ErrInvalidConfig) {
		t.Errorf("bad pattern: %v", err)
	}
}

func TestFromWorkerConfig(t *testing.T) {
	dir := t.TempDir()
	props := map[string]string{
		"config.providers":                             " file , env,dir",
		"config.providers.file.class":                  FileClass,
		"config.providers.file.param.allowed.paths":    dir,
		"config.providers.env.class":                   "EnvVarConfigProvider",
		"config.providers.env.param.allowlist.pattern": "X_.*",
		"config.providers.dir.class":                   DirectoryClass,
		"bootstrap.servers":                            "localhost:9092",
	}
	ps, err := FromWorkerConfig(props, NewBuiltin)
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAll(ps)
	if len(ps) != 3 {
		t.Fatalf("providers = %v", ps)
	}
	if f := ps["file"].(*File); len(f.allowed) != 1 || f.allowed[0] != dir {
		t.Errorf("file params not applied: %v", f.allowed)
	}
	if e := ps["env"].(*EnvVar); e.allow.MatchString("HOME") {
		t.Error("env params not applied")
	}

	for _, tt := range []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"no class", map[string]string{"config.providers": "file"}, "config.providers.file.class is not set"},
		{"unknown class", map[string]string{"config.providers": "v", "config.providers.v.class": "com.example.Vault"}, "config.providers.v.class: configprovider: unknown config provider class com.example.Vault"},
		{"bad param", map[string]string{"config.providers": "file", "config.providers.file.class": FileClass, "config.providers.file.param.allowed.paths": "rel"}, "Invalid value rel for configuration allowed.paths: Path needs to be absolute and exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromWorkerConfig(tt.props, NewBuiltin)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if ps, err := FromWorkerConfig(map[string]string{}, NewBuiltin); err != nil || len(ps) != 0 {
		t.Errorf("no providers: %v %v", ps, err)
	}
}
