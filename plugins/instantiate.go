package plugins

import (
	"fmt"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/plugins/configprovider"
	"github.com/sluicedata/sluice/runtime/convert"
	"github.com/sluicedata/sluice/transforms"
)

// NewConnector returns a new connector instance by class name or alias,
// and its plugin description (Kind tells source from sink).
func (r *Registry) NewConnector(name string) (connectors.Connector, Plugin, error) {
	p, err := r.Lookup(name, KindSource, KindSink)
	if err != nil {
		return nil, Plugin{}, err
	}
	c, err := newAs[connectors.Connector](p)
	return c, p, err
}

// NewConverter returns a new, unconfigured key/value converter.
func (r *Registry) NewConverter(name string) (convert.Converter, error) {
	return lookupNew[convert.Converter](r, name, KindConverter)
}

// NewHeaderConverter returns a new, unconfigured header converter.
func (r *Registry) NewHeaderConverter(name string) (convert.HeaderConverter, error) {
	return lookupNew[convert.HeaderConverter](r, name, KindHeaderConverter)
}

// NewTransformation returns a new, unconfigured transformation.
func (r *Registry) NewTransformation(name string) (transforms.Transformation, error) {
	return lookupNew[transforms.Transformation](r, name, KindTransformation)
}

// NewPredicate returns a new, unconfigured predicate.
func (r *Registry) NewPredicate(name string) (transforms.Predicate, error) {
	return lookupNew[transforms.Predicate](r, name, KindPredicate)
}

// NewConfigProvider returns a new, unconfigured config provider.
func (r *Registry) NewConfigProvider(name string) (configprovider.ConfigProvider, error) {
	return lookupNew[configprovider.ConfigProvider](r, name, KindConfigProvider)
}

// ConfigProviders builds and configures the config providers a worker
// config enables (config.providers, config.providers.<name>.class and
// .param.*), resolving classes in r. See configprovider.FromWorkerConfig.
func (r *Registry) ConfigProviders(workerProps map[string]string) (map[string]configprovider.ConfigProvider, error) {
	return configprovider.FromWorkerConfig(workerProps, r.NewConfigProvider)
}

func lookupNew[T any](r *Registry, name string, kind Kind) (T, error) {
	p, err := r.Lookup(name, kind)
	if err != nil {
		var zero T
		return zero, err
	}
	return newAs[T](p)
}

func newAs[T any](p Plugin) (T, error) {
	v, ok := p.New().(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: %s (%s) constructs a %T, not a %T", ErrInvalidPlugin, p.Class, p.Kind, p.New(), zero)
	}
	return v, nil
}
