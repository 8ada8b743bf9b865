package group

import "strings"

// State is the state of a classic group, as DescribeGroups and ListGroups
// report it.
type State int8

// The classic group states. The zero value is not a state.
const (
	// StateEmpty: no members. Offsets may remain.
	StateEmpty State = iota + 1
	// StatePreparingRebalance: waiting for members to (re)join.
	StatePreparingRebalance
	// StateCompletingRebalance: joins answered, waiting for the leader's
	// assignment (SyncGroup).
	StateCompletingRebalance
	// StateStable: assignment delivered; members heartbeat.
	StateStable
	// StateDead: removed (deleted, or expired with nothing left).
	StateDead
)

var stateNames = [...]string{
	StateEmpty:               "Empty",
	StatePreparingRebalance:  "PreparingRebalance",
	StateCompletingRebalance: "CompletingRebalance",
	StateStable:              "Stable",
	StateDead:                "Dead",
}

// String returns Kafka's name for s, e.g. "PreparingRebalance".
func (s State) String() string {
	if s > 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "Unknown"
}

// parseState is the inverse of String, case-insensitive as Kafka's
// ListGroups states filter is. It returns 0 for an unknown name.
func parseState(name string) State {
	for s := StateEmpty; s <= StateDead; s++ {
		if strings.EqualFold(name, stateNames[s]) {
			return s
		}
	}
	return 0
}
