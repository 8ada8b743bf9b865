package plugins

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/sluicedata/sluice/connectors"
)

// SluiceVersion is the version reported for Sluice's own plugins (those
// that reproduce no Kafka or Confluent release).
const SluiceVersion = "0.1.0-dev"

// Registry holds plugins by name. It is safe for concurrent use; plugins
// are usually registered at start-up and looked up afterwards.
type Registry struct {
	mu struct {
		sync.RWMutex
		byClass  map[string][]Plugin       // class → one entry per kind, in kind order
		explicit map[string]string         // explicit alias → class
		derived  map[string]map[string]int // derived alias → classes → count
	}
}

// New returns an empty registry.
func New() *Registry {
	r := new(Registry)
	r.mu.byClass = map[string][]Plugin{}
	r.mu.explicit = map[string]string{}
	r.mu.derived = map[string]map[string]int{}
	return r
}

// Register adds p. Version and Config are filled in from an instance when
// empty (see Plugin). It fails with ErrDuplicate if the class is already
// registered for p's kind, or if an alias of p is another plugin's class
// name or explicit alias; and with ErrInvalidPlugin if p lacks a class, a
// kind or New.
func (r *Registry) Register(p Plugin) error {
	if p.Class == "" || !p.Kind.Valid() || p.New == nil {
		return fmt.Errorf("%w: %q of kind %q: class, kind and New are required", ErrInvalidPlugin, p.Class, p.Kind)
	}
	p.Aliases = slices.Clone(p.Aliases)
	if p.Version == "" || p.Config == nil {
		inst := p.New()
		if p.Version == "" {
			p.Version = SluiceVersion
			if v, ok := inst.(connectors.Versioned); ok {
				p.Version = v.Version()
			}
		}
		if p.Config == nil {
			if _, ok := inst.(interface{ Config() *connectors.ConfigDef }); ok {
				// Each call asks a fresh instance, as Kafka's REST layer does.
				newFn := p.New
				p.Config = func() *connectors.ConfigDef {
					return newFn().(interface{ Config() *connectors.ConfigDef }).Config()
				}
			}
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.mu.byClass[p.Class] {
		if q.Kind == p.Kind {
			return fmt.Errorf("%w: %s is already registered as a %s", ErrDuplicate, p.Class, p.Kind)
		}
	}
	for _, a := range p.Aliases {
		if a == p.Class {
			continue
		}
		if c, ok := r.mu.explicit[a]; ok && c != p.Class {
			return fmt.Errorf("%w: alias %s of %s is already an alias of %s", ErrDuplicate, a, p.Class, c)
		}
		if _, ok := r.mu.byClass[a]; ok {
			return fmt.Errorf("%w: alias %s of %s is the class name of another plugin", ErrDuplicate, a, p.Class)
		}
	}
	if c, ok := r.mu.explicit[p.Class]; ok {
		return fmt.Errorf("%w: class %s is already an alias of %s", ErrDuplicate, p.Class, c)
	}

	entries := append(r.mu.byClass[p.Class], p)
	slices.SortStableFunc(entries, func(a, b Plugin) int { return cmp.Compare(a.Kind.order(), b.Kind.order()) })
	r.mu.byClass[p.Class] = entries
	for _, a := range p.Aliases {
		if a != p.Class {
			r.mu.explicit[a] = p.Class
		}
	}
	for _, a := range []string{p.SimpleName(), p.PrunedName()} {
		if r.mu.derived[a] == nil {
			r.mu.derived[a] = map[string]int{}
		}
		r.mu.derived[a][p.Class]++
	}
	return nil
}

// resolveLocked returns the class a name refers to: the class itself,
// then explicit aliases, then unambiguous derived ones. REQUIRES: r.mu held.
func (r *Registry) resolveLocked(name string) (string, bool) {
	if _, ok := r.mu.byClass[name]; ok {
		return name, true
	}
	if c, ok := r.mu.explicit[name]; ok {
		return c, true
	}
	if classes := r.mu.derived[name]; len(classes) == 1 {
		for c := range classes {
			return c, true
		}
	}
	return "", false
}

// Lookup finds a plugin by class name, simple class name, simple name
// minus its type suffix, or explicit alias, among the given kinds (any
// kind if none). For a class registered under several of the kinds, the
// first in listing order wins. A failure is a *NotFoundError (ErrNotFound)
// listing what is available.
func (r *Registry) Lookup(name string, kinds ...Kind) (Plugin, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if class, ok := r.resolveLocked(name); ok {
		for _, p := range r.mu.byClass[class] {
			if len(kinds) == 0 || slices.Contains(kinds, p.Kind) {
				return clonePlugin(p), nil
			}
		}
	}
	return Plugin{}, &NotFoundError{Name: name, Kinds: slices.Clone(kinds), Available: r.listLocked(kinds)}
}

// Aliases returns every name that resolves to class: the class itself, the derived aliases that are not ambiguous, and the
// explicit aliases, sorted. Nil if no such plugin is registered.
func (r *Registry) Aliases(class string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	entries := r.mu.byClass[class]
	if len(entries) == 0 {
		return nil
	}
	out := []string{class}
	for _, p := range entries {
		for _, a := range append([]string{p.SimpleName(), p.PrunedName()}, p.Aliases...) {
			if c, ok := r.resolveLocked(a); ok && c == class && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out[1:])
	return out
}

// List returns the plugins of the given kinds (every kind if none), in
// Kafka's REST order: sinks, sources, transformations, predicates,
// converters, header converters (then config providers), each kind sorted
// by class name.
func (r *Registry) List(kinds ...Kind) []Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.listLocked(kinds)
}

// REQUIRES: r.mu held.
func (r *Registry) listLocked(kinds []Kind) []Plugin {
	var out []Plugin
	for _, entries := range r.mu.byClass {
		for _, p := range entries {
			if len(kinds) == 0 || slices.Contains(kinds, p.Kind) {
				out = append(out, clonePlugin(p))
			}
		}
	}
	slices.SortFunc(out, func(a, b Plugin) int {
		return cmp.Or(cmp.Compare(a.Kind.order(), b.Kind.order()), cmp.Compare(a.Class, b.Class))
	})
	return out
}

func clonePlugin(p Plugin) Plugin {
	p.Aliases = slices.Clone(p.Aliases)
	return p
}
