package assign

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseItems reads "a a/0 a/1": a connector instance, then its tasks.
func parseItems(s string) []Item {
	var out []Item
	for _, f := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
		c, t, ok := strings.Cut(f, "/")
		if !ok {
			out = append(out, Item{c, ConnectorTask})
			continue
		}
		n, err := strconv.Atoi(t)
		if err != nil {
			panic(f)
		}
		out = append(out, Item{c, int32(n)})
	}
	return out
}

func formatItems(items []Item) string {
	var parts []string
	for _, it := range items {
		if it.IsConnector() {
			parts = append(parts, it.Connector)
		} else {
			parts = append(parts, fmt.Sprintf("%s/%d", it.Connector, it.Task))
		}
	}
	return strings.Join(parts, ",")
}

// parseMembers reads "w1=a,a/0 w2= w5@w2=": member id, optionally "@" the
// worker whose URL it has (a restart), then what it owns.
func parseMembers(s string) []Member {
	var out []Member
	for _, f := range strings.Fields(s) {
		id, owned, _ := strings.Cut(f, "=")
		url := id
		if i, at, ok := strings.Cut(id, "@"); ok {
			id, url = i, at
		}
		out = append(out, Member{ID: id, URL: "http://" + url, Owned: parseItems(owned)})
	}
	return out
}

// parseConnectors reads "a:6 b:0".
func parseConnectors(s string) map[string]int {
	out := map[string]int{}
	for _, f := range strings.Fields(s) {
		c, n, _ := strings.Cut(f, ":")
		out[c], _ = strconv.Atoi(n)
	}
	return out
}

// formatResult renders "w1+a/3-a/1 w2 …" (members with changes only) and
// the delay.
func formatResult(r Result) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(r.Members)) {
		m := r.Members[id]
		if len(m.Assigned) == 0 && len(m.Revoked) == 0 {
			continue
		}
		p := id
		if len(m.Assigned) > 0 {
			p += "+" + formatItems(m.Assigned)
		}
		if len(m.Revoked) > 0 {
			p += "-" + formatItems(m.Revoked)
		}
		parts = append(parts, p)
	}
	if r.Delay > 0 {
		parts = append(parts, "delay="+r.Delay.String())
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

type round struct {
	at      time.Duration // since the start
	members string        // parseMembers
	conns   string        // parseConnectors; "" = as in the previous round
	clean   string        // URLs (worker names) that exited cleanly
	newLead bool          // this leader did not complete the previous generation
	want    string        // formatResult
}

// TestAssignor replays rebalances through one assignor (the leader), one
// table row per scenario, and checks each round's assignment: what each
// member starts (+) and stops (-), and the delay.
func TestAssignor(t *testing.T) {
	const maxDelay, session = 5 * time.Second, 10 * time.Second
	tests := []struct {
		name     string
		maxDelay time.Duration
		rounds   []round
	}{
		{name: "initial spread of a connector with six tasks over three workers", rounds: []round{
			{members: "w1= w2= w3=", conns: "a:6", want: "w1+a,a/0,a/3 w2+a/1,a/4 w3+a/2,a/5"},
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2,a/5", want: "-"},
		}},
		{name: "a join moves only what must move, revocation first", rounds: []round{
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2,a/5 w4=", conns: "a:6", want: "w3-a/5"},
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2 w4=", want: "w4+a/5"},
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2 w4=a/5", want: "-"},
		}},
		{name: "a crashed worker's work moves at once (its session timeout exceeds the delay)", rounds: []round{
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2,a/5", conns: "a:6", want: "-"},
			{at: time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5", want: "w1+a/1 w3+a/4"},
			{at: 2 * time.Second, members: "w1=a,a/0,a/1,a/3 w3=a/2,a/4,a/5", want: "-"},
		}},
		{name: "a cleanly stopped worker's work waits for it, and it gets it back at once", rounds: []round{
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2,a/5", conns: "a:6", want: "-"},
			{at: time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5", clean: "w2", want: "delay=5s"},
			{at: 3 * time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5", clean: "w2", want: "delay=3s"},
			{at: 4 * time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5 w9@w2=", clean: "w2", want: "w9+a/1,a/4"},
			{at: 5 * time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5 w9@w2=a/1,a/4", want: "-"},
		}},
		{name: "a cleanly stopped worker that does not return loses its work after the delay", rounds: []round{
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2,a/5", conns: "a:6", want: "-"},
			{at: time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5", clean: "w2", want: "delay=5s"},
			{at: 6 * time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5", clean: "w2", want: "w1+a/1 w3+a/4"},
		}},
		{name: "a worker restarted after a crash gets its work back", rounds: []round{
			{members: "w1=a,a/0,a/3 w2=a/1,a/4 w3=a/2,a/5", conns: "a:6", want: "-"},
			{at: time.Second, members: "w1=a,a/0,a/3 w3=a/2,a/5 w7@w2=", want: "w7+a/1,a/4"},
		}},
		{name: "the leader's own work, a new leader without memory assigns orphans at once", rounds: []round{
			{members: "w2=a/1,a/4 w3=a/2,a/5", conns: "a:6", newLead: true, want: "w2+a,a/0 w3+a/3"},
		}},
		{name: "with no delay configured lost work moves at once", maxDelay: -1, rounds: []round{
			{members: "w1=a,a/0 w2=a/1", conns: "a:2", want: "-"},
			{members: "w1=a,a/0", clean: "w2", want: "w1+a/1"},
		}},
		{name: "work a member never started is assigned again", rounds: []round{
			{members: "w1= w2=", conns: "a:2", want: "w1+a,a/0 w2+a/1"},
			{members: "w1=a,a/0 w2=", want: "w2+a/1"},
		}},
		{name: "deleted connectors and tasks are revoked; new ones assigned", rounds: []round{
			{members: "w1=a,a/0,a/2 w2=b,a/1,a/3,b/0", conns: "a:4 b:1", newLead: true, want: "-"},
			{members: "w1=a,a/0,a/2 w2=b,a/1,a/3,b/0", conns: "a:2 c:1", want: "w1+c/0-a/2 w2+c-a/3,b,b/0"},
			{members: "w1=a,a/0,c/0 w2=a/1,c", want: "-"},
		}},
		{name: "duplicated work stays with its previous owner", rounds: []round{
			{members: "w1= w2=", conns: "a:2", want: "w1+a,a/0 w2+a/1"},
			{members: "w1=a,a/0,a/1 w2=a/1", want: "w1-a/1"},
		}},
		{name: "revoking rebalances in a row are held back", rounds: []round{
			{members: "w1=a,a/0,a/1,a/2,a/3,a/4,a/5 w2=", conns: "a:6", newLead: true, want: "w1-a/3,a/4,a/5"},
			{members: "w1=a,a/0,a/1,a/2 w2= w3= w4=", want: "w2+a/3 w3+a/4 w4+a/5 delay=40ms"},
			{at: 40 * time.Millisecond, members: "w1=a,a/0,a/1,a/2 w2=a/3 w3=a/4 w4=a/5", want: "w1-a/2"},
			{at: 50 * time.Millisecond, members: "w1=a,a/0,a/1 w2=a/3 w3=a/4 w4=a/5", want: "w2+a/2"},
			{at: 60 * time.Millisecond, members: "w1=a,a/0,a/1 w2=a/2,a/3 w3=a/4 w4=a/5", want: "-"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := maxDelay
			if tt.maxDelay != 0 {
				md = max(tt.maxDelay, 0)
			}
			a := NewAssignor(md, session)
			t0 := time.Unix(1_700_000_000, 0)
			gen := int32(10)
			conns := map[string]int{}
			for i, r := range tt.rounds {
				if r.conns != "" {
					conns = parseConnectors(r.conns)
				}
				last := gen
				if r.newLead {
					last = gen - 5
				}
				clean := map[string]bool{}
				for _, u := range strings.Fields(r.clean) {
					clean["http://"+u] = true
				}
				gen++
				res := a.Assign(Input{Now: t0.Add(r.at), Generation: gen, LastCompleted: last,
					Members: parseMembers(r.members), Connectors: conns, CleanExit: func(u string) bool { return clean[u] }})
				if got := formatResult(res); got != r.want {
					t.Fatalf("round %d: got  %s\n          want %s", i, got, r.want)
				}
			}
		})
	}
}

func TestAssignEager(t *testing.T) {
	got := AssignEager([]string{"b", "a"}, map[string]int{"y": 1, "x": 2})
	// Dealt in order x, x/0, x/1, y, y/0 to a, b, a, b, a.
	want := map[string]string{"a": "x,x/1,y/0", "b": "x/0,y"}
	for id, w := range want {
		if g := formatItems(sortItems(got[id])); g != w {
			t.Errorf("%s: got %s want %s", id, g, w)
		}
	}
	if len(AssignEager(nil, map[string]int{"x": 1})) != 0 {
		t.Error("no members")
	}
}

// TestAssignorConverges drives random clusters (joins, crashes, clean
// exits, returns, connector changes) through the assignor, applying each
// round as members would, and checks the protocol's invariants every
// round and the balance once the cluster settles.
func TestAssignorConverges(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		a := NewAssignor(time.Duration(rng.IntN(3))*time.Second, 2*time.Second)
		now := time.Unix(1_700_000_000, 0)
		owned := map[string]map[Item]bool{} // member id → what it runs
		urls := map[string]string{}
		conns := map[string]int{"a": 1 + rng.IntN(6)}
		nextID := 0
		join := func(url string) {
			id := fmt.Sprintf("m%02d", nextID)
			nextID++
			owned[id], urls[id] = map[Item]bool{}, url
		}
		for range 1 + rng.IntN(3) {
			join(fmt.Sprintf("http://w%d", nextID))
		}
		gen := int32(0)
		clean := map[string]bool{}
		for step := range 40 {
			now = now.Add(time.Duration(rng.IntN(1500)) * time.Millisecond)
			switch r := rng.IntN(10); {
			case r == 0 && len(owned) < 5:
				join(fmt.Sprintf("http://w%d", nextID))
			case r == 1 && len(owned) > 1: // a crash or a clean exit
				id := slices.Sorted(maps.Keys(owned))[rng.IntN(len(owned))]
				clean[urls[id]] = rng.IntN(2) == 0
				delete(owned, id)
			case r == 2: // the same worker comes back
				for u := range clean {
					join(u)
					break
				}
			case r == 3:
				conns[fmt.Sprintf("c%d", rng.IntN(3))] = rng.IntN(4)
			case r == 4 && len(conns) > 1:
				delete(conns, slices.Sorted(maps.Keys(conns))[0])
			}
			var members []Member
			for id, o := range owned {
				members = append(members, Member{ID: id, URL: urls[id], Owned: slices.Collect(maps.Keys(o))})
			}
			gen++
			res := a.Assign(Input{Now: now, Generation: gen, LastCompleted: gen - 1, Members: members, Connectors: conns,
				CleanExit: func(u string) bool { return clean[u] }})
			seen := map[Item]string{}
			for id, ma := range res.Members {
				before := owned[id]
				for _, it := range ma.Revoked {
					if !before[it] {
						t.Fatalf("seed %d step %d: %s revoked %v it did not run", seed, step, id, it)
					}
				}
				for _, it := range ma.Assigned {
					if before[it] {
						t.Fatalf("seed %d step %d: %s assigned %v it runs", seed, step, id, it)
					}
				}
				for it := range before {
					if !slices.Contains(ma.Revoked, it) && !slices.Contains(ma.Owned, it) {
						t.Fatalf("seed %d step %d: %s silently lost %v", seed, step, id, it)
					}
				}
				for _, it := range ma.Owned {
					if o, dup := seen[it]; dup {
						t.Fatalf("seed %d step %d: %v given to %s and %s", seed, step, it, o, id)
					}
					seen[it] = id
				}
				next := map[Item]bool{}
				for _, it := range ma.Owned {
					next[it] = true
				}
				owned[id] = next
			}
		}
		// Settle: rebalance until nothing changes and no delay is pending.
		for i := 0; ; i++ {
			if i > 20 {
				t.Fatalf("seed %d: no convergence", seed)
			}
			now = now.Add(10 * time.Second)
			var members []Member
			for id, o := range owned {
				members = append(members, Member{ID: id, URL: urls[id], Owned: slices.Collect(maps.Keys(o))})
			}
			gen++
			res := a.Assign(Input{Now: now, Generation: gen, LastCompleted: gen - 1, Members: members, Connectors: conns})
			changed := res.Delay > 0
			for id, ma := range res.Members {
				changed = changed || len(ma.Assigned) > 0 || len(ma.Revoked) > 0
				owned[id] = map[Item]bool{}
				for _, it := range ma.Owned {
					owned[id][it] = true
				}
			}
			if !changed {
				break
			}
		}
		total := map[bool]int{}
		counts := map[bool][]int{}
		for c, n := range conns {
			total[true]++
			total[false] += n
			_ = c
		}
		got := 0
		for _, o := range owned {
			got += len(o)
			for _, conn := range []bool{true, false} {
				n := 0
				for it := range o {
					if it.IsConnector() == conn {
						n++
					}
				}
				counts[conn] = append(counts[conn], n)
			}
		}
		if got != total[true]+total[false] {
			t.Fatalf("seed %d: %d items run, want %d (%v)", seed, got, total[true]+total[false], owned)
		}
		for _, conn := range []bool{true, false} {
			if slices.Max(counts[conn])-slices.Min(counts[conn]) > 1 {
				t.Fatalf("seed %d: unbalanced (connectors=%v): %v", seed, conn, counts[conn])
			}
		}
	}
}
