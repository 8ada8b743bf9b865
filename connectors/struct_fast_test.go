package connectors

import (
	"errors"
	"testing"
)

func TestNewStructUnchecked(t *testing.T) {
	t.Parallel()
	s := StructSchema().Field("id", Int32Schema).Field("name", OptionalStringSchema).MustBuild()
	st := NewStructUnchecked(s, []any{int32(7), nil})
	want, err := StructOf(s, int32(7))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Equal(want) || st.Schema() != s {
		t.Fatalf("NewStructUnchecked = %v, want %v", st, want)
	}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(){
		"not a struct":   func() { NewStructUnchecked(Int32Schema, nil) },
		"nil schema":     func() { NewStructUnchecked(nil, nil) },
		"too few values": func() { NewStructUnchecked(s, []any{int32(1)}) },
	} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, ErrSchema) {
					t.Errorf("%s: panic = %v, want ErrSchema", name, err)
				}
			}()
			f()
		}()
	}
}
