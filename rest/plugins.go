package rest

import (
	"context"
	"net/http"
	"strings"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime"
)

// GET /connector-plugins?connectorsOnly= (§3.24): connectors only unless
// connectorsOnly is given and is not "true".
func (s *server) listPlugins(w http.ResponseWriter, r *http.Request) error {
	connectorsOnly := queryBool(r, "connectorsOnly", true)
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	plugins, err := await(ctx, func(context.Context) ([]runtime.PluginInfo, error) {
		return s.h.Plugins(connectorsOnly), nil
	})
	if err != nil {
		return err
	}
	if plugins == nil {
		plugins = []runtime.PluginInfo{}
	}
	writeJSON(w, http.StatusOK, plugins)
	return nil
}

// GET /connector-plugins/{plugin}/config (§3.25).
func (s *server) pluginConfig(w http.ResponseWriter, r *http.Request) error {
	plugin := pathParam(r, "plugin")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	keys, err := await(ctx, func(context.Context) ([]connectors.ConfigKeyInfo, error) {
		return s.h.PluginConfig(plugin)
	})
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []connectors.ConfigKeyInfo{}
	}
	writeJSON(w, http.StatusOK, keys)
	return nil
}

// PUT /connector-plugins/{plugin}/config/validate (§3.26): 200 even when
// the config has errors. The body must name connector.class itself (the
// path is not injected); if it does, its class must end with the path's,
// each without a trailing "Connector".
func (s *server) validateConfig(w http.ResponseWriter, r *http.Request) error {
	plugin := pathParam(r, "plugin")
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	m, err := decodeStringMap(raw)
	if err != nil {
		return err
	}
	if class := m["connector.class"]; class != nil &&
		!strings.HasSuffix(normalizedPluginName(*class), normalizedPluginName(plugin)) {
		return runtime.Errorf(runtime.ErrBadRequest,
			"Included connector type %s does not match request type %s", *class, plugin)
	}
	config, nulls := splitNulls(m)
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	infos, err := await(ctx, func(ctx context.Context) (connectors.ConfigInfos, error) {
		return s.h.Validate(ctx, config)
	})
	if err != nil {
		return err
	}
	if len(nulls) > 0 {
		infos = addNullErrors(infos, nulls)
	}
	if infos.Groups == nil {
		infos.Groups = []string{}
	}
	if infos.Configs == nil {
		infos.Configs = []connectors.ConfigInfo{}
	}
	writeJSON(w, http.StatusOK, infos)
	return nil
}

// normalizedPluginName strips a trailing "Connector" (unless that is all
// there is), so FileStreamSink, FileStreamSinkConnector and the full class
// name compare by suffix.
func normalizedPluginName(name string) string {
	const suffix = "Connector"
	if len(name) > len(suffix) && strings.HasSuffix(name, suffix) {
		return name[:len(name)-len(suffix)]
	}
	return name
}
