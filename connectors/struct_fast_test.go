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
	structs := make([]Struct, 2)
	for i := range structs {
		InitStructUnchecked(&structs[i], s, []any{int32(i), "x"})
	}
	if v, _ := structs[1].Get("id"); v != int32(1) || structs[0].Validate() != nil {
		t.Fatalf("InitStructUnchecked = %v", &structs[1])
	}
	for name, f := range map[string]func(){
		"not a struct":   func() { NewStructUnchecked(Int32Schema, nil) },
		"nil schema":     func() { NewStructUnchecked(nil, nil) },
		"too few values": func() { NewStructUnchecked(s, []any{int32(1)}) },
		"in use":         func() { InitStructUnchecked(st, s, []any{int32(1), nil}) },
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
