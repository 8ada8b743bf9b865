package group

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// adminFixture returns a Coordinator with three groups: "s" Empty with a
// simple commit, "g" Stable with one member ("A" assigned) and "p"
// CompletingRebalance with one member that has not synced.
func adminFixture(t *testing.T) (*Coordinator, *memStore, context.Context) {
	t.Helper()
	c, store, _ := newTestCoordinator(t)
	ctx := WithClient(context.Background(), "cl", "/10.0.0.1")
	commit := commitReq(8, "", -1, 3, "t")
	commit.Group = "s"
	c.OffsetCommit(ctx, commit)

	r := c.JoinGroup(ctx, joinReq(9, ""))
	r = c.JoinGroup(ctx, joinReq(9, r.MemberID))
	c.SyncGroup(ctx, syncReq(5, r.MemberID, 1, map[string]string{r.MemberID: "A"}))

	jp := joinReq(3, "")
	jp.Group = "p"
	code(t, "p join", c.JoinGroup(ctx, jp).ErrorCode, 0)
	return c, store, ctx
}

func TestDescribeGroups(t *testing.T) {
	c, _, ctx := adminFixture(t)
	for v := int16(0); v <= 6; v++ {
		req := &kmsg.DescribeGroupsRequest{Version: v, Groups: []string{"g", "p", "missing"}, IncludeAuthorizedOperations: v >= 3}
		resp := roundTrip(t, c.DescribeGroups(ctx, req))
		g, p, missing := resp.Groups[0], resp.Groups[1], resp.Groups[2]
		if g.ErrorCode != 0 || g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != "range" || len(g.Members) != 1 {
			t.Fatalf("v%d g: %+v", v, g)
		}
		m := g.Members[0]
		if m.ClientID != "cl" || m.ClientHost != "/10.0.0.1" || string(m.ProtocolMetadata) != string(consumerMeta("t")) || string(m.MemberAssignment) != "A" {
			t.Fatalf("v%d g member: %+v", v, m)
		}
		if v >= 3 && g.AuthorizedOperations != groupAuthorizedOperations {
			t.Fatalf("v%d authorized operations %d", v, g.AuthorizedOperations)
		}
		// Outside Stable: no protocol, no metadata or assignment.
		if p.State != "CompletingRebalance" || p.Protocol != "" || len(p.Members) != 1 || len(p.Members[0].ProtocolMetadata) != 0 {
			t.Fatalf("v%d p: %+v", v, p)
		}
		wantErr := int16(0)
		if v >= 6 {
			wantErr = kerr.GroupIDNotFound.Code
		}
		if missing.State != "Dead" || missing.ErrorCode != wantErr {
			t.Fatalf("v%d missing: %+v", v, missing)
		}
	}
}

func TestListGroups(t *testing.T) {
	c, _, ctx := adminFixture(t)
	names := func(r *kmsg.ListGroupsResponse) (out []string) {
		for _, g := range r.Groups {
			out = append(out, g.Group+"="+g.GroupState)
		}
		return out
	}
	for v := int16(0); v <= 5; v++ {
		r := roundTrip(t, c.ListGroups(ctx, &kmsg.ListGroupsRequest{Version: v}))
		if len(r.Groups) != 3 || r.Groups[0].Group != "g" || r.Groups[1].Group != "p" || r.Groups[2].Group != "s" ||
			r.Groups[0].ProtocolType != "consumer" || r.Groups[2].ProtocolType != "" {
			t.Fatalf("v%d: %+v", v, r.Groups)
		}
	}
	for _, tc := range []struct {
		states, types []string
		want          string
	}{
		{[]string{"Stable"}, nil, "[g=Stable]"},
		{[]string{"empty", "COMPLETINGREBALANCE"}, nil, "[p=CompletingRebalance s=Empty]"},
		{[]string{"Dead"}, nil, "[]"},
		{nil, []string{"consumer"}, "[]"},
		{[]string{"Empty"}, []string{"Classic"}, "[s=Empty]"},
	} {
		r := c.ListGroups(ctx, &kmsg.ListGroupsRequest{Version: 5, StatesFilter: tc.states, TypesFilter: tc.types})
		if got := names(r); fmtSlice(got) != tc.want {
			t.Fatalf("states %v types %v: %v, want %s", tc.states, tc.types, got, tc.want)
		}
	}
}

func fmtSlice(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestDeleteGroups(t *testing.T) {
	c, store, ctx := adminFixture(t)
	before := len(store.records())

	store.setFail(errors.New("disk full"))
	r := c.DeleteGroups(ctx, &kmsg.DeleteGroupsRequest{Version: 2, Groups: []string{"s"}})
	code(t, "failed delete", r.Groups[0].ErrorCode, kerr.CoordinatorNotAvailable.Code)
	store.setFail(nil)

	r = roundTrip(t, c.DeleteGroups(ctx, &kmsg.DeleteGroupsRequest{Version: 2, Groups: []string{"g", "p", "s", "missing", "s"}}))
	var codes []int16
	for _, g := range r.Groups {
		codes = append(codes, g.ErrorCode)
	}
	want := []int16{kerr.NonEmptyGroup.Code, kerr.NonEmptyGroup.Code, 0, kerr.GroupIDNotFound.Code, kerr.GroupIDNotFound.Code}
	if len(codes) != len(want) {
		t.Fatalf("codes %v", codes)
	}
	for i := range want {
		code(t, r.Groups[i].Group, codes[i], want[i])
	}

	recs := store.records()[before:]
	if len(recs) != 2 || string(recs[0].Key) != string(metadataKey("s")) || recs[0].Value != nil ||
		string(recs[1].Key) != string(offsetKey("s", "t", 0)) || recs[1].Value != nil {
		t.Fatalf("records %+v", recs)
	}
	f := kmsg.NewPtrOffsetFetchRequest()
	f.Version = 7
	f.Group = "s"
	if resp := c.OffsetFetch(ctx, f); len(resp.Topics) != 0 {
		t.Fatalf("offsets after delete: %+v", resp.Topics)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{MinSessionTimeout: time.Hour, MaxSessionTimeout: time.Minute, OffsetsRetention: -1}.Validate()
	for _, field := range []string{"Store", "MinSessionTimeout", "OffsetsRetention"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Fatalf("Validate() = %v, want a problem with %s", err, field)
		}
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("%v does not wrap ErrInvalidConfig", err)
	}
	if err := (Config{Store: &memStore{}}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a config without Store")
		}
	}()
	New(Config{})
}

func TestStateNames(t *testing.T) {
	for s := StateEmpty; s <= StateDead; s++ {
		if parseState(strings.ToLower(s.String())) != s {
			t.Fatalf("%v does not parse back", s)
		}
	}
	if State(0).String() != "Unknown" || parseState("Reconciling") != 0 {
		t.Fatal("unknown states")
	}
}
