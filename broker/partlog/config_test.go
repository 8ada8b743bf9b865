package partlog

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := Config{MinCleanableDirtyRatio: 2, IndexIntervalBytes: -1}
	err := bad.Validate()
	for _, field := range []string{"CleanupPolicy", "SegmentBytes", "SegmentMs", "MaxMessageBytes", "IndexIntervalBytes", "MinCleanableDirtyRatio"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate does not report %s: %v", field, err)
		}
	}
	if _, err := Open(t.TempDir(), bad, Options{}); err == nil {
		t.Fatal("Open accepted an invalid configuration")
	}
}

func TestSetConfigAndDelete(t *testing.T) {
	eachFS(t, func(t *testing.T, e *env) {
		l := e.open(t, DefaultConfig())
		g := newGen(10, 100, e.clock.nowMs)
		appendN(t, l, g, 5, 5)

		cfg := DefaultConfig()
		cfg.MaxMessageBytes = 100
		l.SetConfig(cfg)
		b, _ := g.next(t, 5)
		if _, err := l.Append(b); !errors.Is(err, ErrMessageTooLarge) {
			t.Fatalf("append after lowering max.message.bytes: %v", err)
		}
		cfg.SegmentBytes = 1 // invalid: ignored, the previous configuration stays
		l.SetConfig(cfg)
		if got := l.Config(); got.SegmentBytes != DefaultConfig().SegmentBytes || got.MaxMessageBytes != 100 {
			t.Fatalf("config after an invalid SetConfig: %+v", got)
		}

		if err := l.Delete(); err != nil {
			t.Fatal(err)
		}
		if ok, _ := e.fs.Exists(e.dir); ok {
			t.Fatal("directory still there after Delete")
		}
		if _, err := l.Read(0, 1, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("read after delete: %v", err)
		}
		if err := l.Sync(); !errors.Is(err, ErrClosed) {
			t.Fatalf("sync after delete: %v", err)
		}
		if _, err := l.Clean(); !errors.Is(err, ErrClosed) {
			t.Fatalf("clean after delete: %v", err)
		}
	})
}
