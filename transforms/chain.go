package transforms

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicedata/sluice/connectors"
)

// The chain's connector-level keys, as in Kafka's ConnectorConfig and
// TransformationStage.
const (
	keyType      = "type"
	keyPredicate = "predicate"
	keyNegate    = "negate"
)

// Chain is the configured transformation chain of a connector: its
// transforms in order, each with an optional predicate that decides
// whether it applies (Kafka's TransformationChain of TransformationStages).
//
// Build it with NewChain, use Apply for every record, and Close it when
// the task stops. Apply is safe for concurrent use; Close is not.
type Chain struct {
	stages []stage
}

// stage is one transform with its predicate.
type stage struct {
	alias, class string
	t            Transformation
	pred         Predicate
	negate       bool
}

// StageError is the error of a transform in a chain: which alias and class
// failed, and why. It unwraps to the transform's error, so
// errors.Is(err, connectors.ErrData) tells a bad record.
type StageError struct {
	Alias string
	Class string
	Err   error
}

// Error returns "transforms.<alias> (<class>): <error>".
func (e *StageError) Error() string {
	return "transforms." + e.Alias + " (" + e.Class + "): " + e.Err.Error()
}

// Unwrap returns the transform's error.
func (e *StageError) Unwrap() error { return e.Err }

// parseAliases parses a "transforms" or "predicates" list and checks that
// aliases are unique, as Kafka's ConnectorConfig does.
func parseAliases(config map[string]string, key string) ([]string, *connectors.ConfigError) {
	raw, ok := config[key]
	if !ok {
		return nil, nil
	}
	v, err := connectors.ParseConfigValue(key, raw, connectors.ConfigList)
	if err != nil {
		var ce *connectors.ConfigError
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, &connectors.ConfigError{Name: key, Message: err.Error()}
	}
	list := v.([]string)
	seen := make(map[string]bool, len(list))
	for _, a := range list {
		if seen[a] {
			return nil, connectors.NewConfigError(key, list, "Duplicate alias provided.")
		}
		seen[a] = true
	}
	return list, nil
}

// subConfig returns the keys under prefix with the prefix removed, minus
// the chain's own keys (type, predicate, negate), which mask any key of
// the same name a plugin defines.
func subConfig(config map[string]string, prefix string, transform bool) map[string]string {
	out := map[string]string{}
	for k, v := range config {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || rest == keyType || transform && (rest == keyPredicate || rest == keyNegate) {
			continue
		}
		out[rest] = v
	}
	return out
}

// resolve finds the plugin named by prefix+"type", reporting a missing
// key, an unknown class or a plugin of the wrong kind.
func resolve(config map[string]string, prefix string, predicate bool, lookup Lookup) (Plugin, *connectors.ConfigError) {
	key := prefix + keyType
	raw, ok := config[key]
	if !ok {
		return Plugin{}, &connectors.ConfigError{Name: key, Message: `Missing required configuration "` + key + `" which has no default value.`}
	}
	class := strings.TrimSpace(raw)
	p, ok := lookup(class)
	if !ok {
		return Plugin{}, connectors.NewConfigError(key, class, "Class "+class+" could not be found.")
	}
	if p.Predicate != predicate {
		kind := "Transformation"
		if predicate {
			kind = "Predicate"
		}
		return Plugin{}, connectors.NewConfigError(key, class, "Class "+class+" is not a "+kind+".")
	}
	return p, nil
}

// newPredicate makes and configures a predicate of alias.
func newPredicate(config map[string]string, alias string, lookup Lookup) (Predicate, Plugin, connectors.ConfigErrors) {
	prefix := connectors.PrefixPredicates + alias + "."
	p, ce := resolve(config, prefix, true, lookup)
	if ce != nil {
		return nil, p, connectors.ConfigErrors{ce}
	}
	inst, ok := p.New().(Predicate)
	if !ok {
		return nil, p, connectors.ConfigErrors{connectors.NewConfigError(prefix+keyType, p.Class, "Class "+p.Class+" is not a Predicate.")}
	}
	if err := inst.Configure(subConfig(config, prefix, false)); err != nil {
		return nil, p, prefixErrors(prefix, err)
	}
	return inst, p, nil
}

// prefixErrors turns a Configure error into ConfigErrors naming full keys.
func prefixErrors(prefix string, err error) connectors.ConfigErrors {
	var out connectors.ConfigErrors
	for _, ce := range asConfigErrors("", err) {
		out = append(out, prefixConfigError(prefix, ce))
	}
	return out
}

// NewChain builds the transformation chain of a connector config from its
// "transforms" and "predicates" keys, Kafka's way:
//
//	transforms=route,unwrap
//	transforms.route.type=RegexRouter          (a class name or alias, via lookup)
//	transforms.route.regex=(.*)                (the transform's own keys)
//	transforms.route.predicate=isOrders        (optional: apply only when true)
//	transforms.route.negate=true               (optional: … when false)
//	predicates=isOrders
//	predicates.isOrders.type=TopicNameMatches
//	predicates.isOrders.pattern=orders.*
//
// Every transform and every listed predicate is instantiated and
// configured; each gets the keys under its prefix with the prefix
// stripped. All problems are reported at once as connectors.ConfigErrors
// (matching connectors.ErrInvalidConfig), each naming the full key, e.g.
// "Invalid value foo for configuration transforms.route.type: Class foo
// could not be found." On error nothing needs closing.
func NewChain(config map[string]string, lookup Lookup) (*Chain, error) {
	var errs connectors.ConfigErrors
	transforms, ce := parseAliases(config, connectors.KeyTransforms)
	if ce != nil {
		errs = append(errs, ce)
	}
	predicates, ce := parseAliases(config, connectors.KeyPredicates)
	if ce != nil {
		errs = append(errs, ce)
	}
	// Every listed predicate must configure, used or not.
	for _, alias := range predicates {
		p, _, perrs := newPredicate(config, alias, lookup)
		errs = append(errs, perrs...)
		if p != nil {
			_ = p.Close()
		}
	}
	c := &Chain{}
	for _, alias := range transforms {
		prefix := connectors.PrefixTransforms + alias + "."
		st, serrs := newStage(config, alias, prefix, predicates, lookup)
		if len(serrs) > 0 {
			errs = append(errs, serrs...)
			st.close()
			continue
		}
		c.stages = append(c.stages, st)
	}
	if len(errs) > 0 {
		_ = c.Close()
		return nil, errs
	}
	return c, nil
}

// newStage builds the stage of one transform alias.
func newStage(config map[string]string, alias, prefix string, predicates []string, lookup Lookup) (stage, connectors.ConfigErrors) {
	st := stage{alias: alias}
	var errs connectors.ConfigErrors
	predKey, negKey := prefix+keyPredicate, prefix+keyNegate
	predAlias := strings.TrimSpace(config[predKey])
	if raw, ok := config[negKey]; ok {
		v, err := connectors.ParseConfigValue(negKey, raw, connectors.ConfigBoolean)
		if err != nil {
			errs = append(errs, asConfigErrors(negKey, err)...)
		} else {
			st.negate = v.(bool)
		}
		if _, hasPred := config[predKey]; !hasPred {
			errs = append(errs, &connectors.ConfigError{Name: negKey, Message: "Config '" + negKey + "' was provided but there is no config '" + predKey + "' defining a predicate to be negated."})
		}
	}
	if predAlias != "" {
		if !slices.Contains(predicates, predAlias) {
			errs = append(errs, connectors.NewConfigError(predKey, predAlias, "Predicate "+predAlias+" is not listed in "+connectors.KeyPredicates+" (listed: "+strings.Join(predicates, ", ")+")"))
		} else if p, _, perrs := newPredicate(config, predAlias, lookup); len(perrs) == 0 {
			st.pred = p
		}
	}
	p, ce := resolve(config, prefix, false, lookup)
	if ce != nil {
		return st, append(errs, ce)
	}
	st.class = p.Class
	t, ok := p.New().(Transformation)
	if !ok {
		return st, append(errs, connectors.NewConfigError(prefix+keyType, p.Class, "Class "+p.Class+" is not a Transformation."))
	}
	if err := t.Configure(subConfig(config, prefix, true)); err != nil {
		return st, append(errs, prefixErrors(prefix, err)...)
	}
	st.t = t
	return st, errs
}

func (s *stage) close() error {
	var errs []error
	if s.t != nil {
		errs = append(errs, s.t.Close())
	}
	if s.pred != nil {
		errs = append(errs, s.pred.Close())
	}
	return errors.Join(errs...)
}

// Apply runs r through the chain. A stage whose predicate (negated if so
// configured) is false passes the record on unchanged. It returns the
// final record and true, or false when a transform dropped the record
// (later stages then do not run). A transform's error is returned as a
// *StageError; a panicking transform is reported the same way instead of
// crashing the task.
func (c *Chain) Apply(r connectors.Record) (out connectors.Record, keep bool, err error) {
	if c == nil || len(c.stages) == 0 {
		return r, true, nil
	}
	var cur *stage
	defer func() {
		if p := recover(); p != nil {
			out, keep = r, false
			err = &StageError{Alias: cur.alias, Class: cur.class, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	for i := range c.stages {
		cur = &c.stages[i]
		if cur.pred != nil && cur.negate == cur.pred.Test(r) {
			continue
		}
		next, keep, err := cur.t.Apply(r)
		if err != nil {
			return r, false, &StageError{Alias: cur.alias, Class: cur.class, Err: err}
		}
		if !keep {
			return next, false, nil
		}
		r = next
	}
	return r, true, nil
}

// Len returns the number of transforms in the chain.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.stages)
}

// Close closes every transform and predicate of the chain, returning their
// errors joined.
func (c *Chain) Close() error {
	if c == nil {
		return nil
	}
	var errs []error
	for i := range c.stages {
		errs = append(errs, c.stages[i].close())
	}
	c.stages = nil
	return errors.Join(errs...)
}
